/**
 * nginx's `$ssl_client_escaped_cert`: the client certificate in PEM, URL-encoded, as in
 * `proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;` (nginx 1.13.5 and later).
 */
import { CertificateHeaderError } from './certificate-header-error.js';
import { certificateDer } from './certificate-thumbprint.js';

const PEM = /^-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----\s*$/;

/** The DER of a URL-encoded PEM certificate; throws {@link CertificateHeaderError} when it is not one. `where` names the source. */
export function parseEscapedPem(value: string, where: string): Uint8Array {
  let pem: string;
  try {
    pem = decodeURIComponent(value.trim());
  } catch {
    throw new CertificateHeaderError(`${where} is not URL-encoded`);
  }
  if (!PEM.test(pem)) throw new CertificateHeaderError(`${where} is not one URL-encoded PEM certificate`);
  return certificateDer(pem, where);
}
