/**
 * RFC 9440 `Client-Cert`: the DER of the client certificate as a Structured Field Byte Sequence
 * (RFC 8941 section 3.3.5), base64 between colons: `Client-Cert: :MIIBqDCCAU6gAwIBAgIBBzAKBgg...:`.
 */
import { CertificateHeaderError } from './certificate-header-error.js';
import { certificateDer } from './certificate-thumbprint.js';

/** RFC 8941 section 3.3.5 sf-binary: ":" *(base64) ":" (padding allowed); optional whitespace around it. */
const SF_BINARY = /^[ \t]*:([A-Za-z0-9+/]*={0,2}):[ \t]*$/;

/** The DER certificate of a `Client-Cert` value; throws {@link CertificateHeaderError} when it is not one. */
export function parseClientCertHeader(value: string, header: string): Uint8Array {
  const match = SF_BINARY.exec(value);
  if (match === null || (match[1] as string).length % 4 === 1) {
    throw new CertificateHeaderError(`the ${header} header is not a structured-field byte sequence (RFC 9440: base64 of the DER between colons)`);
  }
  return certificateDer(Buffer.from(match[1] as string, 'base64'), `the ${header} header`);
}
