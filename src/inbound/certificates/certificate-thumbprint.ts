/**
 * The certificate thumbprint of RFC 8705 section 3.1: `x5t#S256` is the base64url-encoded SHA-256
 * digest of the DER encoding of the X.509 certificate.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { CertificateHeaderError } from './certificate-header-error.js';

/** base64url(SHA-256(der)): the `cnf["x5t#S256"]` of a token bound to this certificate. */
export function certificateThumbprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url');
}

/** The DER of a PEM or DER certificate, checked to be an X.509 certificate; throws {@link CertificateHeaderError} (`where` names the source). */
export function certificateDer(value: Uint8Array | string, where: string): Uint8Array {
  try {
    return new X509Certificate(typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)).raw;
  } catch {
    throw new CertificateHeaderError(`${where} is not an X.509 certificate`);
  }
}
