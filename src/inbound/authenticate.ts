/**
 * The inbound pipeline: request -> credentials -> issuer -> verifier -> binding checks. One
 * `authenticate(request)` composes the steps; framework adapters (`requireAuth`) only translate
 * their request into an {@link InboundRequest} and the outcome into their own terms. Guards run
 * after it, per route.
 */
import { isPromiseLike } from '../lib/is-promise-like.js';
import { OptionReader, type KnownOptions } from '../options/option-reader.js';
import type { BindingCheck } from './bindings/binding-check.js';
import { refuseConfirmation } from './bindings/refuse-confirmation.js';
import { extractCredentials, type Credentials, type CredentialsPolicy } from './credentials/extract-credentials.js';
import type { InboundRequest } from './inbound-request.js';
import type { IssuerResolver } from './issuers/issuer-resolver.js';
import { singleIssuer } from './issuers/single-issuer.js';
import type { VerifiedToken } from './verified-token.js';
import { buildJwtVerifier } from './verifiers/jwt/create-verifier.js';
import { VERIFIER_OPTION_NAMES, type RequiredOptionVariables } from './verifiers/jwt/resolve-options.js';
import type { VerifierOptions } from './verifiers/jwt/types.js';

/**
 * Options of {@link createAuthenticator}: the verifier's (key source, `issuer`, `audience`,
 * algorithms, ...) and how the token may be sent.
 *
 * @example
 * ```ts
 * import type { AuthenticatorOptions } from 'express-m2m';
 *
 * const options: AuthenticatorOptions = { issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example', allowQueryToken: false };
 * ```
 */
export interface AuthenticatorOptions extends VerifierOptions, CredentialsPolicy {}

/**
 * Authenticates requests: see {@link createAuthenticator}.
 *
 * @example
 * ```ts
 * const auth = await authenticator.authenticate(request); // a VerifiedToken, or throws a BearerError
 * ```
 */
export interface Authenticator {
  /**
   * The verified token of the request, synchronously when everything is at hand (a cached token
   * or key), otherwise a promise. Throws (or rejects with) a `BearerError` for a request to refuse;
   * anything else thrown comes from a custom part (a bug): answer it as 401 (see `requireAuth`).
   */
  authenticate(request: InboundRequest): VerifiedToken | Promise<VerifiedToken>;
  /** Runs discovery and fetches the keys now. */
  warmUp(): Promise<void>;
  /** Stops background work and drops cached tokens. */
  close(): void;
}

/** The steps of a pipeline. */
export interface AuthenticatorParts {
  credentials: CredentialsPolicy;
  issuers: IssuerResolver;
  /** Run in order after every verification. */
  bindings: readonly BindingCheck[];
}

/** Every option `createAuthenticator` takes. */
export const AUTHENTICATOR_OPTION_NAMES: KnownOptions<AuthenticatorOptions> = {
  ...VERIFIER_OPTION_NAMES, allowQueryToken: true, allowBodyToken: true,
};

/**
 * Creates the inbound pipeline without Express: for other frameworks, queues and tests. Bad
 * options throw a `TypeError` naming the option.
 *
 * @example
 * ```ts
 * import { createAuthenticator, type InboundRequest } from 'express-m2m';
 *
 * const authenticator = createAuthenticator({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example' });
 * const request: InboundRequest = { method: 'GET', target: '/orders', headerLines: (name) => (name === 'authorization' ? [header] : []) };
 * const { payload, scopes } = await authenticator.authenticate(request);
 * ```
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  return buildAuthenticator(new OptionReader<AuthenticatorOptions>(options, AUTHENTICATOR_OPTION_NAMES, { caller: 'createAuthenticator' }));
}

/** Internal: the pipeline from options read by `read` (createAuthenticator's reader, or requireAuth's). */
export function buildAuthenticator(read: OptionReader<AuthenticatorOptions>, variables?: RequiredOptionVariables): Authenticator {
  const credentials: CredentialsPolicy = {
    allowQueryToken: read.boolean('allowQueryToken', false),
    allowBodyToken: read.boolean('allowBodyToken', false),
  };
  const verifier = buildJwtVerifier(read, variables);
  return composeAuthenticator({ credentials, issuers: singleIssuer(verifier), bindings: [refuseConfirmation] });
}

/** Internal: composes the steps into one `authenticate`. */
export function composeAuthenticator(parts: AuthenticatorParts): Authenticator {
  const { credentials: policy, issuers } = parts;
  const bind = bindingStep(parts.bindings);
  return {
    authenticate(request) {
      const credentials = extractCredentials(request, policy);
      const verifier = issuers.verifierFor(credentials, request);
      if (isPromiseLike(verifier)) {
        return (verifier as Promise<Awaited<typeof verifier>>)
          .then((chosen) => chosen.verify(credentials.token))
          .then((token) => bind(token, credentials, request));
      }
      const token = verifier.verify(credentials.token);
      // Hot path: a cached token or key verifies synchronously, and no promise is made.
      if (isPromiseLike(token)) return (token as Promise<VerifiedToken>).then((verified) => bind(verified, credentials, request));
      return bind(token, credentials, request);
    },
    warmUp: () => issuers.warmUp(),
    close: () => issuers.close(),
  };
}

type BindStep = (token: VerifiedToken, credentials: Credentials, request: InboundRequest) => VerifiedToken | Promise<VerifiedToken>;

/** The binding checks as one step that hands the token on (synchronously while every check is). */
function bindingStep(checks: readonly BindingCheck[]): BindStep {
  if (checks.length === 1) {
    const only = checks[0] as BindingCheck;
    return (token, credentials, request) => {
      const done = only.check(token, credentials, request);
      return isPromiseLike(done) ? Promise.resolve(done).then(() => token) : token;
    };
  }
  return (token, credentials, request) => {
    for (let i = 0; i < checks.length; i += 1) {
      const done = (checks[i] as BindingCheck).check(token, credentials, request);
      if (isPromiseLike(done)) {
        const rest = checks.slice(i + 1);
        return Promise.resolve(done).then(async () => {
          for (const check of rest) await check.check(token, credentials, request);
          return token;
        });
      }
    }
    return token;
  };
}
