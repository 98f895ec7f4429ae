/**
 * Internal: the one place where `requireAuth`'s options are validated and defaulted, environment
 * variables included. The verifier's own options are validated by `createVerifier`.
 */
import { quotable } from '../errors/quotable.js';
import type { VerifierEvent, VerifierOptions } from '../verification/index.js';

/**
 * An event `requireAuth` reports (besides the verifier's and key source's, passed through).
 *
 * @example
 * ```ts
 * import { requireAuth } from 'express-m2m';
 *
 * app.use(requireAuth({
 *   issuerBaseURL: 'https://issuer.example/',
 *   audience: 'https://api.example',
 *   onEvent: (event) => {
 *     if (event.type === 'auth.rejected') metrics.increment(`auth.rejected.${event.status}`, { code: event.code });
 *     else if (event.type === 'auth.unexpected_error') logger.error({ err: event.error }, 'token verification failed unexpectedly');
 *     else if (event.type === 'keys.fetch_failed') logger.warn({ uri: event.uri, err: event.error }, 'JWKS fetch failed');
 *   },
 * }));
 * ```
 */
export type RequireAuthEvent =
  | VerifierEvent
  | {
    /** A request was rejected by requireAuth (no token, malformed request, bad token, 503; guards do not report). */
    type: 'auth.rejected';
    /** HTTP status of the rejection. */
    status: number;
    /** The error's stable code, e.g. `ERR_TOKEN_MISSING` or `ERR_JWT_EXPIRED`. */
    code: string;
  }
  | {
    /** Verification threw something that is not a `BearerError`: a bug or an unexpected failure. The request got a 401. */
    type: 'auth.unexpected_error';
    error: unknown;
  };

/**
 * Options of `requireAuth`: every option of `createVerifier` (key source, `issuer`, `audience`,
 * algorithms, clock tolerance, cache...) plus how the token may be sent and the `realm`.
 *
 * Environment variables fill in what you leave out, so `requireAuth()` works with env alone:
 * `ISSUER_BASE_URL` -> `issuerBaseURL` and `JWKS_URI` -> `jwksUri` (only when you pass no key
 * source: `issuerBaseURL`, `jwksUri`, `publicKey`, `secret` or `keySource`), `ISSUER` -> `issuer`
 * (unless you pass `issuer` or `issuerBaseURL`), `AUDIENCE` -> `audience`. Explicit options win.
 *
 * @example
 * ```ts
 * import { requireAuth, type RequireAuthOptions } from 'express-m2m';
 *
 * const options: RequireAuthOptions = {
 *   issuerBaseURL: 'https://issuer.example/', // or ISSUER_BASE_URL
 *   audience: 'https://api.example', // or AUDIENCE
 *   scopeClaim: 'permissions', // Auth0 RBAC
 *   allowQueryToken: false,
 *   realm: 'orders',
 *   onEvent: (event) => logger.debug(event),
 * };
 * app.use(requireAuth(options));
 * ```
 */
export interface RequireAuthOptions extends Omit<VerifierOptions, 'onEvent' | 'audience'> {
  /**
   * Expected `aud`: the token's `aud` (a string or an array) must contain at least one of these.
   * Optional here only because the `AUDIENCE` environment variable can give it; one of the two is
   * required (`createVerifier` requires it).
   */
  audience?: string | string[];
  /** Accept `access_token` in the query string (RFC 6750 section 2.3; discouraged). Default `false`. */
  allowQueryToken?: boolean;
  /**
   * Accept `access_token` in an `application/x-www-form-urlencoded` body of a non-GET request
   * (RFC 6750 section 2.2); mount `express.urlencoded()` before. Default `false`.
   */
  allowBodyToken?: boolean;
  /** `realm` attribute of every `WWW-Authenticate` challenge (guards after it included). Default: none. */
  realm?: string;
  /**
   * Receives events for operators: the verifier's (`verification.*`), the key source's (`keys.*`:
   * fetch failures, stale keys in use) and `auth.rejected` / `auth.unexpected_error`. Never gets
   * a token or a secret. An exception thrown by the hook is ignored. Default: none.
   */
  onEvent?: (event: RequireAuthEvent) => void;
}

/**
 * The environment variables `requireAuth` reads, with the option each fills in (when the option is
 * left out; see {@link RequireAuthOptions} for when a variable is ignored).
 *
 * @example
 * ```ts
 * import { REQUIRE_AUTH_ENV } from 'express-m2m';
 *
 * for (const [variable, option] of Object.entries(REQUIRE_AUTH_ENV)) {
 *   console.log(`${variable} -> ${option}: ${process.env[variable] ?? '(unset)'}`);
 * }
 * ```
 */
export const REQUIRE_AUTH_ENV = Object.freeze({
  ISSUER_BASE_URL: 'issuerBaseURL',
  ISSUER: 'issuer',
  AUDIENCE: 'audience',
  JWKS_URI: 'jwksUri',
} as const);

export interface ResolvedRequireAuthOptions {
  verifier: VerifierOptions;
  allowQueryToken: boolean;
  allowBodyToken: boolean;
  realm: string | undefined;
  onEvent: ((event: RequireAuthEvent) => void) | undefined;
}

function fromEnv(env: NodeJS.ProcessEnv, name: keyof typeof REQUIRE_AUTH_ENV): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Validates `requireAuth`'s own options and merges the environment into the verifier's. */
export function resolveRequireAuthOptions(
  options: RequireAuthOptions | undefined,
  env: NodeJS.ProcessEnv,
): ResolvedRequireAuthOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError('requireAuth: the options must be an object');
  }
  const { allowQueryToken, allowBodyToken, realm, onEvent, ...verifier } = options ?? {};
  if (allowQueryToken !== undefined && typeof allowQueryToken !== 'boolean') {
    throw new TypeError('requireAuth: "allowQueryToken" must be a boolean');
  }
  if (allowBodyToken !== undefined && typeof allowBodyToken !== 'boolean') {
    throw new TypeError('requireAuth: "allowBodyToken" must be a boolean');
  }
  if (realm !== undefined && (typeof realm !== 'string' || quotable(realm) !== realm)) {
    throw new TypeError('requireAuth: "realm" must be a string of printable ASCII without quotes or backslashes');
  }

  const hasKeySource = verifier.issuerBaseURL !== undefined || verifier.jwksUri !== undefined
    || verifier.publicKey !== undefined || verifier.secret !== undefined || verifier.keySource !== undefined;
  // `audience` may still be missing here (no option, no AUDIENCE): createVerifier rejects that
  // with a message naming the option, so the type says what createVerifier is given, not checked.
  const merged = { ...verifier } as VerifierOptions;
  if (!hasKeySource) {
    const issuerBaseURL = fromEnv(env, 'ISSUER_BASE_URL');
    const jwksUri = fromEnv(env, 'JWKS_URI');
    if (issuerBaseURL !== undefined) merged.issuerBaseURL = issuerBaseURL;
    if (jwksUri !== undefined) merged.jwksUri = jwksUri;
  }
  if (verifier.issuer === undefined && verifier.issuerBaseURL === undefined) {
    const issuer = fromEnv(env, 'ISSUER');
    if (issuer !== undefined) merged.issuer = issuer;
  }
  if (verifier.audience === undefined) {
    const audience = fromEnv(env, 'AUDIENCE');
    if (audience !== undefined) merged.audience = audience;
  }
  // The verifier validates `onEvent` (its message gets requireAuth's prefix) and guards its own calls.
  if (onEvent !== undefined) merged.onEvent = onEvent;

  return {
    verifier: merged,
    allowQueryToken: allowQueryToken ?? false,
    allowBodyToken: allowBodyToken ?? false,
    realm,
    onEvent: typeof onEvent === 'function' ? safeHook(onEvent) : undefined,
  };
}

/** An event hook whose exceptions never reach a request. */
function safeHook<E>(hook: (event: E) => void): (event: E) => void {
  return (event) => {
    try {
      hook(event);
    } catch {
      // An observer's failure must not change how a request is answered.
    }
  };
}
