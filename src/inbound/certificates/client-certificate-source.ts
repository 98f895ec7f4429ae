/**
 * Where the client certificate of a request comes from, configured explicitly (nothing is trusted
 * by default): the TLS connection itself (`'tls'`, when Node terminates TLS), a header set by a
 * TLS-terminating proxy that the user names (RFC 9440 `Client-Cert`, nginx's URL-encoded PEM,
 * Envoy's `X-Forwarded-Client-Cert`), or a function of the user's. A header that is not configured
 * is never read. What a source yields is the certificate's `x5t#S256` thumbprint (RFC 8705 section
 * 3.1), all the binding check needs; a value that cannot be read throws a
 * {@link CertificateHeaderError}.
 */
import type { OptionReader } from '../../options/option-reader.js';
import type { InboundRequest } from '../inbound-request.js';
import { CertificateHeaderError } from './certificate-header-error.js';
import { certificateDer, certificateThumbprint } from './certificate-thumbprint.js';
import { xfccThumbprint } from './envoy-xfcc.js';
import { parseEscapedPem } from './nginx-escaped-cert.js';
import { parseClientCertHeader } from './rfc9440-client-cert.js';

/**
 * A header a TLS-terminating proxy sets with the client certificate of the connection it
 * terminated. Only configure a header your proxy always sets (or removes): a client reaching the
 * API directly could otherwise send its own.
 *
 * - `'client-cert'`: RFC 9440 `Client-Cert`, the DER as a structured-field byte sequence
 *   (`:base64:`). Default name `client-cert`.
 * - `'nginx'`: the URL-encoded PEM of nginx's `$ssl_client_escaped_cert`
 *   (`proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;`). Default name `x-ssl-client-cert`.
 * - `'xfcc'`: Envoy's `X-Forwarded-Client-Cert`; its last element is read (the one the nearest
 *   proxy added), its `Cert` (URL-encoded PEM) or else its `Hash` (hex SHA-256 of the DER).
 *   Default name `x-forwarded-client-cert`.
 *
 * An empty header is "no certificate"; a header sent twice, or a value that cannot be read, is a
 * 401 `invalid_token` for a certificate-bound token (never a crash).
 *
 * @example
 * ```ts
 * import { requireAuth, type ClientCertificateHeader } from 'express-m2m';
 *
 * const fromNginx: ClientCertificateHeader = { header: 'nginx', name: 'x-client-cert' };
 * app.use(requireAuth({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example', mtls: { certificate: fromNginx } }));
 * ```
 */
export interface ClientCertificateHeader {
  /** The header's format. */
  header: 'client-cert' | 'nginx' | 'xfcc';
  /** The header's name (case-insensitive). Default: the format's usual name (see above). */
  name?: string;
}

/**
 * The user's own way to find the client certificate of a request: its DER bytes or PEM text, or
 * `undefined` when the request has none. A throw (or rejection) refuses a bound token with a 401.
 *
 * @example
 * ```ts
 * import type { ClientCertificateFunction } from 'express-m2m';
 *
 * const fromMyProxy: ClientCertificateFunction = (request) => {
 *   const [value] = request.headerLines('x-my-proxy-cert');
 *   return value === undefined ? undefined : Buffer.from(value, 'base64');
 * };
 * ```
 */
export type ClientCertificateFunction = (request: InboundRequest) => Uint8Array | string | undefined | PromiseLike<Uint8Array | string | undefined>;

/**
 * Where `requireAuth` finds the client certificate: `'tls'` (the peer certificate of the request's
 * TLS connection, when Node terminates TLS: `https.createServer({ requestCert: true, ... })`), a
 * {@link ClientCertificateHeader} set by your TLS-terminating proxy, or a
 * {@link ClientCertificateFunction}.
 *
 * @example
 * ```ts
 * import type { ClientCertificateOption } from 'express-m2m';
 *
 * const behindEnvoy: ClientCertificateOption = { header: 'xfcc' };
 * const nodeTerminatesTls: ClientCertificateOption = 'tls';
 * ```
 */
export type ClientCertificateOption = 'tls' | ClientCertificateHeader | ClientCertificateFunction;

/** Internal: the thumbprint of the request's client certificate (undefined: none), or a promise of it. Throws {@link CertificateHeaderError}. */
export type CertificateSource = (request: InboundRequest) => string | undefined | Promise<string | undefined>;

const HEADER_NAMES: Readonly<Record<ClientCertificateHeader['header'], string>> = {
  'client-cert': 'client-cert',
  nginx: 'x-ssl-client-cert',
  xfcc: 'x-forwarded-client-cert',
};
const HEADER_FORMATS = Object.keys(HEADER_NAMES) as Array<ClientCertificateHeader['header']>;
const HEADER_OPTION_NAMES = { header: true, name: true } as const;
/** RFC 9110 token: the characters of a header name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function thumbprintOf(value: Uint8Array | string, where: string): string {
  return certificateThumbprint(certificateDer(value, where));
}

/** Reads `<path>certificate` (required). */
export function readCertificateSource<T extends { certificate?: ClientCertificateOption }>(read: OptionReader<T>): CertificateSource {
  const option = read.raw('certificate' as keyof T & string) as unknown;
  if (option === undefined) {
    read.required('certificate', "where the client certificate comes from: 'tls', { header: 'client-cert' | 'nginx' | 'xfcc' } or a function");
  }
  if (option === 'tls') {
    return (request) => {
      const der = request.clientCertificate;
      return der === undefined || der.length === 0 ? undefined : certificateThumbprint(der);
    };
  }
  if (typeof option === 'function') {
    const find = option as ClientCertificateFunction;
    const where = 'the client certificate given by the "mtls.certificate" function';
    const settle = (value: Uint8Array | string | undefined): string | undefined => {
      if (value === undefined || value.length === 0) return undefined;
      if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw new CertificateHeaderError(`${where} is not DER bytes or PEM text`);
      return thumbprintOf(value, where);
    };
    return (request) => {
      let found: ReturnType<ClientCertificateFunction>;
      try {
        found = find(request);
      } catch {
        throw new CertificateHeaderError('the "mtls.certificate" function threw');
      }
      if (typeof (found as PromiseLike<unknown> | undefined)?.then === 'function') {
        return Promise.resolve(found).then(settle, () => {
          throw new CertificateHeaderError('the "mtls.certificate" function rejected');
        });
      }
      return settle(found as Uint8Array | string | undefined);
    };
  }
  if (typeof option !== 'object' || option === null) {
    read.fail('certificate', "must be 'tls', { header: 'client-cert' | 'nginx' | 'xfcc', name? } or a function");
  }
  const header: OptionReader<ClientCertificateHeader> = read.nested<ClientCertificateHeader>('certificate' as keyof T & string, HEADER_OPTION_NAMES);
  const format = header.oneOf('header', HEADER_FORMATS);
  if (format === undefined) header.required('header', "the proxy's format: 'client-cert' (RFC 9440), 'nginx' or 'xfcc' (Envoy)");
  const given = header.string('name');
  if (given !== undefined && !TOKEN.test(given)) header.fail('name', 'must be an HTTP header name');
  const name = (given ?? HEADER_NAMES[format]).toLowerCase();
  const parse = format === 'client-cert'
    ? (value: string) => certificateThumbprint(parseClientCertHeader(value, name))
    : format === 'nginx'
      ? (value: string) => certificateThumbprint(parseEscapedPem(value, `the ${name} header`))
      : (value: string) => xfccThumbprint(value, name);
  return (request) => {
    const lines = request.headerLines(name);
    if (lines.length === 0) return undefined;
    // Two lines: something besides the proxy set the header too; which one to believe is unknown.
    if (lines.length > 1) throw new CertificateHeaderError(`the ${name} header is sent more than once`);
    const value = lines[0] as string;
    return value.trim() === '' ? undefined : parse(value);
  };
}
