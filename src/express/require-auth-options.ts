/**
 * Internal: `requireAuth`'s options, read in one place: its own (`realm`, `resourceMetadata`,
 * `credentialsRequired`, `onEvent`), the pipeline's, and the environment variables that fill in
 * what is left out, remembered so that a bad value names the variable it came from.
 */
import type { RejectionDetail } from '../errors/bearer-errors.js';
import { quotable } from '../errors/quotable.js';
import { AUTHENTICATOR_OPTION_NAMES, type AuthenticatorOptions } from '../inbound/authenticate.js';
import { resourceMetadataUrlProblem, type BearerMethod } from '../metadata/protected-resource-metadata.js';
import type { VerifierEvent } from '../inbound/verifiers/jwt/types.js';
import { OptionReader, type KnownOptions } from '../options/option-reader.js';

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
  | AuthRejectedEvent
  | {
    /** Verification threw something that is not a `BearerError`: a bug or an unexpected failure. The request got a 401. */
    type: 'auth.unexpected_error';
    error: unknown;
  };

/**
 * One rejected request (requireAuth's, or a guard's after it): what was refused and why, never the
 * token. `client`, `claim`, `expected` and `received` come from the rejection's
 * {@link RejectionDetail} when there is one.
 *
 * @example
 * ```ts
 * const onEvent = (event: RequireAuthEvent) => {
 *   if (event.type === 'auth.rejected') {
 *     logger.info({ route: `${event.method} ${event.path}`, code: event.code, client: event.client, expected: event.expected, received: event.received }, 'rejected');
 *   }
 * };
 * ```
 */
export interface AuthRejectedEvent {
  /** The event's type. */
  type: 'auth.rejected';
  /** HTTP status of the rejection. */
  status: number;
  /** The error's stable code, e.g. `ERR_TOKEN_MISSING` or `ERR_JWT_EXPIRED`. */
  code: string;
  /** The request method. */
  method: string;
  /** The request path, without its query (a query may carry secrets). */
  path: string;
  /** The client the token was issued to, when its claims are authentic (the signature verified). */
  client?: string;
  /** The claim (or `scope`) that did not match. */
  claim?: string;
  /** What the API expects of that claim. */
  expected?: string;
  /** What the token carried. */
  received?: string;
}

/**
 * Options of `requireAuth`: every option of `createVerifier` (key source, `issuer`, `audience`,
 * algorithms, clock tolerance, cache...) plus how the token may be sent and the `realm`.
 *
 * Environment variables fill in what you leave out, so `requireAuth()` works with env alone:
 * `ISSUER_BASE_URL` -> `issuerBaseURL`, `JWKS_URI` -> `jwksUri` and `SECRET` -> `secret` (only
 * when you pass no key source: `issuerBaseURL`, `jwksUri`, `publicKey`, `secret` or `keySource`),
 * `ISSUER` -> `issuer` (unless you pass `issuer` or `issuerBaseURL`), `AUDIENCE` -> `audience` (unless you
 * pass `audience` or a `claims.aud` rule; one
 * value, or several separated by commas or spaces), `TOKEN_SIGNING_ALG` -> `algorithms` (one
 * algorithm, unless you pass `algorithms`). Explicit options win.
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
export interface RequireAuthOptions extends Omit<AuthenticatorOptions, 'onEvent' | 'audience'> {
  /**
   * Expected `aud`: the token's `aud` (a string or an array) must contain at least one of these.
   * Optional here only because the `AUDIENCE` environment variable can give it; one of the two is
   * required.
   */
  audience?: string | string[];
  /** `realm` attribute of every `WWW-Authenticate` challenge (guards after it included). Default: none. */
  realm?: string;
  /**
   * `false`: a request without credentials passes, with no `req.auth` (anonymous; guards after it
   * answer 401), while a request whose credentials fail is still refused, as express-jwt's
   * `credentialsRequired: false` (not Auth0's `authRequired: false`, which lets invalid tokens
   * through). Default `true`.
   */
  credentialsRequired?: boolean;
  /**
   * Adds `resource_metadata="<url>"` to every `WWW-Authenticate` challenge (401 and 403, the
   * guards' after this middleware included; RFC 9728 section 5.1), so that a client refused for
   * want of a token finds the API's protected resource metadata, and from it the authorization
   * servers to get one from. The metadata's URL (an https URL, plain http only on loopback), or
   * what publishes it: the `protectedResourceMetadata()` middleware (or
   * `createProtectedResourceMetadata()`'s result), whose `url` is taken. Default: none.
   */
  resourceMetadata?: string | {
    /** The URL of the protected resource metadata. */
    readonly url: string;
  };
  /**
   * Receives events for operators: the verifier's (`verification.*`), the key source's (`keys.*`:
   * fetch failures, stale keys in use), `auth.rejected` for every rejected request (the guards'
   * after this middleware included) and `auth.unexpected_error`. Never gets a token or a secret.
   * An exception thrown by the hook is ignored. Default: none.
   */
  onEvent?: (event: RequireAuthEvent) => void;
  /**
   * The API's public base URL as its clients call it (e.g. `https://api.example.com`, or with the
   * path prefix a proxy strips: `https://example.com/api`): the URL a DPoP proof's `htu` is
   * compared with is this plus the request's path. Without it the URL is made from the request:
   * its `Host` and the connection's scheme, or `X-Forwarded-Host`/`X-Forwarded-Proto` only when
   * Express's `trust proxy` setting trusts the proxy. Default: none.
   */
  publicBaseUrl?: string;
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
  /** `issuerBaseURL`, when no key source option is given. */
  ISSUER_BASE_URL: 'issuerBaseURL',
  /** `issuer`, unless `issuer` or `issuerBaseURL` is given. */
  ISSUER: 'issuer',
  /** `audience`: one value, or several separated by commas or spaces. */
  AUDIENCE: 'audience',
  /** `jwksUri`, when no key source option is given. */
  JWKS_URI: 'jwksUri',
  /** `secret` (HS256/384/512), when no key source option is given. */
  SECRET: 'secret',
  /** `algorithms`: one algorithm, unless `algorithms` is given. */
  TOKEN_SIGNING_ALG: 'algorithms',
} as const);

/** How a variable's text becomes the option's value. */
const ENV_VALUE: Partial<Record<keyof typeof REQUIRE_AUTH_ENV, (text: string) => unknown>> = {
  // One audience, or a list: "https://a,https://b" or "https://a https://b".
  AUDIENCE: (text) => {
    const list = text.split(/[\s,]+/).filter((item) => item !== '');
    return list.length === 1 ? list[0] : list;
  },
  TOKEN_SIGNING_ALG: (text) => [text],
};

const REQUIRE_AUTH_OPTION_NAMES: KnownOptions<RequireAuthOptions> = { ...AUTHENTICATOR_OPTION_NAMES, realm: true, credentialsRequired: true, resourceMetadata: true,
  publicBaseUrl: true };

/** What requireAuth is built from. */
export interface ResolvedRequireAuthOptions {
  /** Reads the pipeline's options (those of the environment included), naming requireAuth. */
  pipeline: OptionReader<AuthenticatorOptions>;
  realm: string | undefined;
  /** The `resource_metadata` URL of the challenges. */
  resourceMetadata: string | undefined;
  credentialsRequired: boolean;
  onEvent: ((event: RequireAuthEvent) => void) | undefined;
  /** `publicBaseUrl`, without a trailing `/`. */
  publicBaseUrl: string | undefined;
  /** What the protected resource metadata of this API says of it by default. */
  advertised: AdvertisedAuth;
}

/** What `protectedResourceMetadata({ auth })` takes from a requireAuth: its issuers and how it takes tokens. */
export interface AdvertisedAuth {
  /** The trusted issuers' identifiers (`issuer`, else `issuerBaseURL`), or why they cannot be listed. */
  issuers: { readonly list: readonly string[] } | { readonly unknown: string };
  /** The token transmission methods it accepts. */
  bearerMethods: readonly BearerMethod[];
  /** Its `resource_metadata` URL, if any. */
  resourceMetadata: string | undefined;
  /** Its DPoP proof algorithms and whether DPoP is required, when DPoP is on. */
  dpop?: { readonly algorithms: readonly string[]; readonly required: boolean } | undefined;
  /** It accepts only certificate-bound tokens (`mtls.mode: 'required'`). */
  certificateBoundTokensRequired?: boolean;
}

function fromEnv(env: NodeJS.ProcessEnv, name: keyof typeof REQUIRE_AUTH_ENV): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Reads requireAuth's own options and merges the environment into the pipeline's. */
export function resolveRequireAuthOptions(options: RequireAuthOptions | undefined, env: NodeJS.ProcessEnv): ResolvedRequireAuthOptions {
  const given = new OptionReader<RequireAuthOptions>(options, REQUIRE_AUTH_OPTION_NAMES, { caller: 'requireAuth' });
  const realm = given.raw('realm');
  if (realm !== undefined && (typeof realm !== 'string' || quotable(realm) !== realm)) {
    given.fail('realm', 'must be a string of printable ASCII without quotes or backslashes');
  }
  const onEvent = given.func<(event: RequireAuthEvent) => void>('onEvent');
  const credentialsRequired = given.boolean('credentialsRequired', true);
  const resourceMetadata = readResourceMetadata(given);
  const publicBaseUrl = readPublicBaseUrl(given);

  const merged: Record<string, unknown> = { ...options };
  const origins = new Map<string, string>();
  const take = (variable: keyof typeof REQUIRE_AUTH_ENV): void => {
    const value = fromEnv(env, variable);
    if (value === undefined) return;
    const option = REQUIRE_AUTH_ENV[variable];
    merged[option] = ENV_VALUE[variable]?.(value) ?? value;
    origins.set(option, variable);
  };
  const hasKeySource = (['issuerBaseURL', 'jwksUri', 'publicKey', 'secret', 'keySource', 'issuers'] as const).some((name) => given.has(name));
  if (!hasKeySource) {
    take('ISSUER_BASE_URL');
    take('JWKS_URI');
    take('SECRET');
  }
  if (!given.has('issuer') && !given.has('issuerBaseURL') && !given.has('issuers')) take('ISSUER');
  // A rule of the user's for `aud` replaces the audience check: AUDIENCE is not read then.
  const claims = given.raw('claims');
  const audienceRule = typeof claims === 'object' && claims !== null && Object.hasOwn(claims, 'aud');
  if (!given.has('audience') && !audienceRule) take('AUDIENCE');
  if (!given.has('algorithms')) take('TOKEN_SIGNING_ALG');
  delete merged.realm;
  delete merged.credentialsRequired;
  delete merged.resourceMetadata;
  delete merged.onEvent;
  delete merged.publicBaseUrl;
  // The pipeline's events go to the same hook (the verifier guards its own calls).
  if (onEvent !== undefined) merged.onEvent = onEvent;

  return {
    pipeline: new OptionReader<AuthenticatorOptions>(merged, AUTHENTICATOR_OPTION_NAMES, { caller: 'requireAuth', env: origins }),
    realm: realm as string | undefined,
    resourceMetadata,
    credentialsRequired,
    onEvent: onEvent === undefined ? undefined : safeHook(onEvent),
    publicBaseUrl,
    advertised: Object.freeze({
      issuers: advertisedIssuers(merged), bearerMethods: bearerMethods(merged), resourceMetadata,
      certificateBoundTokensRequired: (merged.mtls as { mode?: unknown } | undefined)?.mode === 'required',
    }),
  };
}

/** `publicBaseUrl`: an http(s) URL without query or fragment; kept without a trailing `/`. */
function readPublicBaseUrl(given: OptionReader<RequireAuthOptions>): string | undefined {
  const url = given.httpUrl('publicBaseUrl');
  if (url === undefined) return undefined;
  const parsed = new URL(url);
  if (parsed.search !== '' || parsed.hash !== '' || url.includes('?') || url.includes('#')) given.fail('publicBaseUrl', 'must not have a query or a fragment');
  return `${parsed.origin}${parsed.pathname}`.replace(/\/+$/, '');
}

/** `resourceMetadata`: a URL, or an object whose `url` is one. */
function readResourceMetadata(given: OptionReader<RequireAuthOptions>): string | undefined {
  const value = given.raw('resourceMetadata');
  if (value === undefined) return undefined;
  const url = (typeof value === 'object' && value !== null) || typeof value === 'function' ? (value as { url?: unknown }).url : value;
  if (typeof url !== 'string') given.fail('resourceMetadata', 'must be a URL, or the protectedResourceMetadata() middleware that publishes the metadata');
  const problem = resourceMetadataUrlProblem(url);
  if (problem !== undefined) given.fail('resourceMetadata', problem);
  return url;
}

/** The identifiers of the trusted issuers, as configured (the pipeline checks them). */
function advertisedIssuers(values: Record<string, unknown>): AdvertisedAuth['issuers'] {
  const { issuers } = values;
  if (typeof issuers === 'function') return { unknown: 'its "issuers" is a function (the trusted issuers cannot be listed)' };
  const entries = Array.isArray(issuers) ? issuers as unknown[] : [values];
  const list: string[] = [];
  for (const entry of entries) {
    const { issuer, issuerBaseURL } = (entry ?? {}) as { issuer?: unknown; issuerBaseURL?: unknown };
    const identifier = typeof issuer === 'string' ? issuer : typeof issuerBaseURL === 'string' && !issuerBaseURL.includes('/.well-known/') ? issuerBaseURL : undefined;
    if (identifier === undefined) return { unknown: 'an issuer is given by its metadata URL only (add its "issuer")' };
    if (!list.includes(identifier)) list.push(identifier);
  }
  return { list };
}

/** The token transmission methods the pipeline accepts (RFC 6750 section 2). */
function bearerMethods(values: Record<string, unknown>): BearerMethod[] {
  const methods: BearerMethod[] = ['header'];
  if (values.allowBodyToken === true) methods.push('body');
  if (values.allowQueryToken === true) methods.push('query');
  return methods;
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
