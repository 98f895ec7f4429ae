/**
 * The inbound pipeline: request -> credentials -> issuer -> verifier -> binding checks ->
 * revocation check. One
 * `authenticate(request)` composes the steps; framework adapters (`requireAuth`) only translate
 * their request into an {@link InboundRequest} and the outcome into their own terms. Guards run
 * after it, per route.
 */
import { readDpop, type InboundDpopOptions } from '../dpop/dpop-options.js';
import { isPromiseLike } from '../lib/is-promise-like.js';
import { OptionReader, type KnownOptions } from '../options/option-reader.js';
import type { BindingCheck } from './bindings/binding-check.js';
import type { MtlsOptions } from './bindings/certificate-binding.js';
import { readSenderConstraints } from './bindings/sender-constraint.js';
import { readRevocationCheck, REVOCATION_OPTION_NAMES, type RevocationOptions } from './revocation/revocation-check.js';
import { extractCredentials, type Credentials, type CredentialsPolicy } from './credentials/extract-credentials.js';
import type { InboundRequest } from './inbound-request.js';
import { issuerCallback } from './issuers/issuer-callback.js';
import { issuerList } from './issuers/issuer-list.js';
import {
  buildIssuerVerifier, ISSUER_IDENTITY_OPTIONS, ISSUER_OPTION_NAMES, type IssuerDefaults, type IssuerOptions, type IssuerResolverFunction,
} from './issuers/issuer-options.js';
import type { IssuerResolver } from './issuers/issuer-resolver.js';
import { singleIssuer } from './issuers/single-issuer.js';
import type { TokenVerifier } from './verifiers/token-verifier.js';
import type { VerifiedToken } from './verified-token.js';
import { buildTokenVerifier } from './verifiers/build-token-verifier.js';
import type { IntrospectionOptions } from './verifiers/introspection/types.js';
import { VERIFIER_OPTION_NAMES, type RequiredOptionVariables } from './verifiers/jwt/resolve-options.js';
import type { VerifierOptions } from './verifiers/jwt/types.js';
import { healthOf, reportsHealth } from '../lib/health-registry.js';
import type { IssuerHealth } from '../observability/health.js';

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
export interface AuthenticatorOptions extends Omit<VerifierOptions, 'audience'>, Omit<CredentialsPolicy, 'dpopScheme'>, RevocationOptions {
  /**
   * Expected `aud`: the token's `aud` (a string or an array) must contain at least one of these.
   * Required, here or in every entry of `issuers`.
   */
  audience?: string | string[];
  /**
   * Several trusted issuers, instead of `issuer`/`issuerBaseURL` and a key source at the top
   * level: a list of {@link IssuerOptions} (each inherits the top-level options it leaves out), or
   * a function that returns the configuration of the issuer a token claims. The token's unverified
   * `iss` only chooses the configuration; everything is then verified against it, and a token of
   * an issuer that is not trusted is refused (401) without any network call.
   */
  issuers?: readonly IssuerOptions[] | IssuerResolverFunction;
  /** With an `issuers` function: most issuers whose verifiers are kept (least recently used first out). Default 50. */
  maxIssuers?: number;
  /** With an `issuers` function: longest it may take to answer (the request gets a 503 past it), in milliseconds. Default 5000. */
  issuerResolverTimeout?: number;
  /**
   * Check the tokens that are not JWTs (or every token) by asking the issuer's RFC 7662
   * introspection endpoint: see {@link IntrospectionOptions}. With `issuers`, it belongs in the
   * entry of the issuer whose tokens are introspected. Default: none (only JWTs are accepted).
   */
  introspection?: IntrospectionOptions;
  /** DPoP (RFC 9449): proof-of-possession tokens with their proofs. Default: off (see {@link InboundDpopOptions}). */
  dpop?: InboundDpopOptions;
  /**
   * Certificate-bound access tokens (RFC 8705 section 3): where the client certificate comes
   * from, and whether every token must be bound to it. See {@link MtlsOptions}. Default: none (a
   * certificate-bound token is refused, as every sender-constrained token).
   */
  mtls?: MtlsOptions;
}

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
  /** Run in order after every verification: the binding checks, then the revocation check. */
  checks: readonly BindingCheck[];
}

/** Every option `createAuthenticator` takes. */
export const AUTHENTICATOR_OPTION_NAMES: KnownOptions<AuthenticatorOptions> = {
  ...VERIFIER_OPTION_NAMES, ...REVOCATION_OPTION_NAMES,
  allowQueryToken: true, allowBodyToken: true, issuers: true, maxIssuers: true, issuerResolverTimeout: true, introspection: true,
  dpop: true,
  mtls: true,
};

/** An issuer's verified-token cache by default when issuers come from a function (bounded per issuer, and by maxIssuers). */
const RESOLVED_ISSUER_CACHE = Object.freeze({ maxEntries: 1000, maxBytes: 2 * 1024 * 1024 });

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
    dpopScheme: readDpop(read)?.mode,
  };
  const issuers = read.has('issuers') ? trustedIssuers(read) : singleIssuer(buildTokenVerifier(read, variables).verifier);
  const revocation = readRevocationCheck(read, read.func<() => number>('now', 'a function returning milliseconds') ?? Date.now);
  const bindings = readSenderConstraints(read);
  return composeAuthenticator({ credentials, issuers, checks: revocation === undefined ? bindings : [...bindings, revocation] });
}

/** The issuer resolution of the `issuers` option: a fixed list, or the user's function. */
function trustedIssuers(read: OptionReader<AuthenticatorOptions>): IssuerResolver {
  for (const name of ISSUER_IDENTITY_OPTIONS) {
    if (read.has(name)) read.fail(name, 'belongs in an entry of "issuers" (it says which issuer is trusted, and how its keys are had)');
  }
  if (read.has('introspection')) {
    read.fail('introspection', 'belongs in the entry of "issuers" whose tokens are introspected (the endpoint and the credentials are that issuer\'s)');
  }
  const option = read.raw('issuers');
  const values: Record<string, unknown> = {};
  for (const name of [...Object.keys(ISSUER_OPTION_NAMES), 'onEvent', 'now', 'fetch']) {
    if (read.has(name as keyof AuthenticatorOptions)) values[name] = read.raw(name as keyof AuthenticatorOptions);
  }
  const defaults: IssuerDefaults = { caller: read.caller, values, origins: read.origins };
  if (typeof option === 'function') {
    if (!read.has('verifiedTokenCache')) values.verifiedTokenCache = RESOLVED_ISSUER_CACHE;
    return issuerCallback(option as IssuerResolverFunction, {
      maxIssuers: read.integer('maxIssuers', 50),
      timeout: read.duration('issuerResolverTimeout', 5000),
      now: read.func<() => number>('now', 'a function returning milliseconds') ?? Date.now,
      build: (options, issuer) => buildIssuerVerifier(options, `issuers(${JSON.stringify(issuer.slice(0, 100))}).`, defaults),
    });
  }
  for (const name of ['maxIssuers', 'issuerResolverTimeout'] as const) {
    if (read.has(name)) read.fail(name, 'applies only when "issuers" is a function');
  }
  if (!Array.isArray(option) || option.length === 0) read.fail('issuers', 'must be a non-empty array of issuer options, or a function');
  const verifiers = new Map<string, TokenVerifier>();
  let opaque: { path: string; verifier: TokenVerifier } | undefined;
  option.forEach((entry, index) => {
    const path = `issuers[${index}].`;
    const { key, verifier, introspects } = buildIssuerVerifier(entry, path, defaults);
    if (verifiers.has(key)) read.failWith(`"${path.slice(0, -1)}" trusts the same issuer as an earlier entry (${key})`);
    if (introspects) {
      // An opaque token names no issuer: it goes to the one issuer that introspects. Asking several
      // would hand one authorization server's tokens to another.
      if (opaque !== undefined) {
        read.failWith(`"${opaque.path}introspection" and "${path}introspection": at most one issuer may introspect tokens `
          + '(an opaque token names no issuer, and would otherwise be sent to another issuer\'s endpoint)');
      }
      opaque = { path, verifier };
    }
    verifiers.set(key, verifier);
  });
  return issuerList(verifiers, opaque?.verifier);
}

/** Internal: composes the steps into one `authenticate`. */
export function composeAuthenticator(parts: AuthenticatorParts): Authenticator {
  const { credentials: policy, issuers } = parts;
  const bind = checkStep(parts.checks);
  const authenticator: Authenticator = {
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
  reportsHealth(authenticator, (now) => healthOf<IssuerHealth[]>(issuers, now) ?? []);
  return authenticator;
}

type BindStep = (token: VerifiedToken, credentials: Credentials, request: InboundRequest) => VerifiedToken | Promise<VerifiedToken>;

/** The checks after verification as one step that hands the token on (synchronously while every check is). */
function checkStep(checks: readonly BindingCheck[]): BindStep {
  if (checks.length === 1) {
    const only = checks[0] as BindingCheck;
    return (token, credentials, request) => {
      const done = only.check(token, credentials, request);
      return isPromiseLike(done) ? Promise.resolve(done).then((checked) => checked ?? token) : done ?? token;
    };
  }
  return (verified, credentials, request) => {
    // A check may hand on the token with what its binding established (DPoP's scheme and jkt).
    let token = verified;
    for (let i = 0; i < checks.length; i += 1) {
      const done = (checks[i] as BindingCheck).check(token, credentials, request);
      if (isPromiseLike(done)) {
        const rest = checks.slice(i + 1);
        return Promise.resolve(done).then(async (checked) => {
          let current = checked ?? token;
          for (const check of rest) current = (await check.check(current, credentials, request)) ?? current;
          return current;
        });
      }
      if (done !== undefined) token = done;
    }
    return token;
  };
}
