/**
 * Envoy's `X-Forwarded-Client-Cert` (XFCC): comma-separated elements, one per proxy that added one,
 * each a `;`-separated list of `Key=Value` pairs (values may be double-quoted, with `\"` inside):
 * `By=spiffe://mesh/api;Hash=468ed33b...;Cert="-----BEGIN%20CERTIFICATE-----%0A...";Subject="CN=orders"`.
 *
 * The element read is the LAST one: the one added by the proxy nearest to this server (the one you
 * configured and trust). Elements before it were passed on from hops further away. Configure the
 * edge Envoy with `forward_client_cert_details: SANITIZE_SET` so that a client cannot send its own.
 * In that element, `Cert` (the URL-encoded PEM) is used when present, else `Hash` (the hex SHA-256
 * of the DER, which is all the binding needs). With both, they must agree.
 */
import { CertificateHeaderError } from './certificate-header-error.js';
import { certificateThumbprint } from './certificate-thumbprint.js';
import { parseEscapedPem } from './nginx-escaped-cert.js';

/** One XFCC element: its keys (lower-case) and values, unquoted. */
type Element = Map<string, string>;

/** Splits an XFCC value into elements of key/value pairs; throws {@link CertificateHeaderError} on a syntax error. */
export function parseXfccElements(value: string, header: string): Element[] {
  const malformed = (why: string): CertificateHeaderError => new CertificateHeaderError(`the ${header} header is malformed (${why})`);
  const elements: Element[] = [];
  let element: Element = new Map();
  let i = 0;
  const n = value.length;
  while (i < n) {
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i += 1;
    const keyStart = i;
    while (i < n && value[i] !== '=' && value[i] !== ';' && value[i] !== ',') i += 1;
    const key = value.slice(keyStart, i).trim().toLowerCase();
    if (key === '' || value[i] !== '=') throw malformed('a pair without "Key="');
    i += 1;
    let text = '';
    if (value[i] === '"') {
      i += 1;
      let closed = false;
      while (i < n) {
        const char = value[i] as string;
        if (char === '\\' && i + 1 < n) {
          text += value[i + 1];
          i += 2;
        } else if (char === '"') {
          closed = true;
          i += 1;
          break;
        } else {
          text += char;
          i += 1;
        }
      }
      if (!closed) throw malformed('an unterminated quoted value');
      while (i < n && (value[i] === ' ' || value[i] === '\t')) i += 1;
    } else {
      const start = i;
      while (i < n && value[i] !== ';' && value[i] !== ',') i += 1;
      text = value.slice(start, i).trim();
      if (text.includes('"')) throw malformed('a quote inside an unquoted value');
    }
    // A key may repeat (URI, DNS): the first value is kept (Hash and Cert appear once).
    if (!element.has(key)) element.set(key, text);
    if (i >= n) break;
    if (value[i] === ',') {
      elements.push(element);
      element = new Map();
    } else if (value[i] !== ';') {
      throw malformed('text after a quoted value');
    }
    i += 1;
  }
  if (element.size === 0) throw malformed('an empty element');
  elements.push(element);
  return elements;
}

/** The `x5t#S256` thumbprint of the certificate in the last XFCC element; throws {@link CertificateHeaderError}. */
export function xfccThumbprint(value: string, header: string): string | undefined {
  const element = parseXfccElements(value, header).at(-1) as Element;
  const cert = element.get('cert');
  const hash = element.get('hash');
  let fromHash: string | undefined;
  if (hash !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(hash)) throw new CertificateHeaderError(`the ${header} header's Hash is not a hex SHA-256 digest`);
    fromHash = Buffer.from(hash, 'hex').toString('base64url');
  }
  if (cert === undefined || cert === '') return fromHash;
  const thumbprint = certificateThumbprint(parseEscapedPem(cert, `the ${header} header's Cert`));
  if (fromHash !== undefined && fromHash !== thumbprint) throw new CertificateHeaderError(`the ${header} header's Hash and Cert disagree`);
  return thumbprint;
}
