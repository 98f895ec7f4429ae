/**
 * Certificate-bound access tokens (RFC 8705 section 3): a token whose `cnf` claim has
 * `x5t#S256` is accepted only from a request whose client certificate has that SHA-256
 * thumbprint. With `mode: 'required'`, a token without it is refused too. Where the certificate
 * comes from is configured explicitly (`src/inbound/certificates/`).
 */
import { InvalidTokenError } from '../../errors/bearer-errors.js';
import { withoutStack } from '../../errors/without-stack.js';
import { isPromiseLike } from '../../lib/is-promise-like.js';
import type { KnownOptions, OptionReader } from '../../options/option-reader.js';
import { CertificateHeaderError } from '../certificates/certificate-header-error.js';
import { readCertificateSource, type CertificateSource, type ClientCertificateOption } from '../certificates/client-certificate-source.js';
import { mismatch } from '../rejection-detail.js';
import type { VerifiedToken } from '../verified-token.js';
import type { SenderConstraint } from './sender-constraint.js';

/**
 * The `mtls` option of `requireAuth` (and `createAuthenticator`): certificate-bound access tokens,
 * RFC 8705 section 3. A token with `cnf["x5t#S256"]` is accepted only when the request's client
 * certificate has that thumbprint (base64url of the SHA-256 of its DER); otherwise, or when the
 * request has no certificate, 401 `invalid_token` saying the binding failed.
 *
 * @example
 * ```ts
 * import { requireAuth, type MtlsOptions } from 'express-m2m';
 *
 * // Node terminates TLS: https.createServer({ key, cert, ca, requestCert: true, rejectUnauthorized: false }, app)
 * const mtls: MtlsOptions = { mode: 'required', certificate: 'tls' };
 * app.use(requireAuth({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example', mtls }));
 * ```
 */
export interface MtlsOptions {
  /**
   * `'allowed'`: certificate-bound tokens are checked, unbound bearer tokens still pass.
   * `'required'`: every token must be certificate-bound (and the protected resource metadata says
   * `tls_client_certificate_bound_access_tokens: true`). Default `'allowed'`.
   */
  mode?: 'allowed' | 'required';
  /** Where the client certificate comes from (required; see {@link ClientCertificateOption}). */
  certificate: ClientCertificateOption;
}

const MTLS_OPTION_NAMES: KnownOptions<MtlsOptions> = { mode: true, certificate: true };

/** The member of `cnf` a certificate binding names (RFC 8705 section 3.1). */
export const CERTIFICATE_CONFIRMATION = 'x5t#S256';

function refused(token: VerifiedToken, description: string, code: string, received?: string): InvalidTokenError {
  return withoutStack(() => new InvalidTokenError(description, code, {
    detail: mismatch(token.payload, 'cnf.x5t#S256', 'the client certificate\'s thumbprint', received),
  }));
}

/** The `mtls` binding check (none without the option). */
export function readCertificateBinding<T extends { mtls?: MtlsOptions }>(read: OptionReader<T>): SenderConstraint[] {
  if (!read.has('mtls' as keyof T & string)) return [];
  const options = read.nested<MtlsOptions>('mtls' as keyof T & string, MTLS_OPTION_NAMES);
  const required = options.oneOf('mode', ['allowed', 'required'], 'allowed') === 'required';
  const source: CertificateSource = readCertificateSource(options);

  const compare = (token: VerifiedToken, bound: string, thumbprint: string | undefined): void => {
    if (thumbprint === undefined) {
      throw refused(token, 'the token is bound to a client certificate (cnf x5t#S256) and the request presented none', 'ERR_TOKEN_CERTIFICATE_MISSING');
    }
    if (thumbprint !== bound) {
      throw refused(token, `the token's certificate binding failed: the client certificate (SHA-256 thumbprint ${thumbprint}) is not the one the token is bound to`,
        'ERR_TOKEN_CERTIFICATE_MISMATCH', thumbprint);
    }
  };
  const unreadable = (token: VerifiedToken, error: unknown): never => {
    if (error instanceof CertificateHeaderError) {
      throw refused(token, `the token is bound to a client certificate and the request's certificate cannot be read: ${error.message}`, 'ERR_CLIENT_CERTIFICATE_MALFORMED');
    }
    throw error;
  };

  return [{
    confirmationMethod: CERTIFICATE_CONFIRMATION,
    check(token, _credentials, request) {
      const cnf = token.payload.cnf as Record<string, unknown> | undefined;
      const bound = typeof cnf === 'object' && cnf !== null ? cnf[CERTIFICATE_CONFIRMATION] : undefined;
      if (bound === undefined) {
        if (required) {
          throw refused(token, 'this API accepts only certificate-bound tokens (RFC 8705): the token has no cnf x5t#S256', 'ERR_TOKEN_NOT_CERTIFICATE_BOUND');
        }
        return;
      }
      if (typeof bound !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(bound)) {
        throw refused(token, "the token's cnf x5t#S256 is not a SHA-256 thumbprint", 'ERR_TOKEN_CERTIFICATE_MISMATCH');
      }
      // The certificate is read only for a bound token: an unbound one never depends on the header.
      let found: ReturnType<CertificateSource>;
      try {
        found = source(request);
      } catch (error) {
        return unreadable(token, error);
      }
      if (isPromiseLike(found)) {
        return Promise.resolve(found).then((thumbprint) => compare(token, bound, thumbprint), (error: unknown) => unreadable(token, error));
      }
      return compare(token, bound, found);
    },
  }];
}
