/** Public types of the JWT verifier (`createVerifier`). */
import type { JwsAlgorithm } from '../../../keys/algorithms.js';
import type { JwksOptions, KeySourceOptions } from '../../../keys/options.js';
import type { KeySource, KeySourceEvent } from '../../../keys/types.js';
import type { DiscoveryTuning } from '../../../discovery/metadata-discovery.js';
import type { FetchLike } from '../../../transport/fetch-like.js';
import type { ClaimRules } from '../claim-rules.js';
import type { TokenVerifier } from '../token-verifier.js';

/**
 * An event the verifier reports for operators (key-source events are passed through as they are).
 * Events never carry a token or a secret.
 *
 * @example
 * ```ts
 * import { createVerifier, type VerifierEvent } from 'express-m2m';
 *
 * const onEvent = (event: VerifierEvent) => {
 *   if (event.type === 'verification.rejected') metrics.increment(`jwt.rejected.${event.code}`);
 *   if (event.type === 'keys.fetch_failed') logger.warn({ uri: event.uri }, event.error.message);
 * };
 * const verifier = createVerifier({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example', onEvent });
 * ```
 */
export type VerifierEvent =
  | KeySourceEvent
  | {
    /**
     * A token verified (signature, claims, rules; the binding checks and guards come after).
     * `cached`: answered from the verified-token cache (or the introspection cache), without a key
     * lookup or an introspection call.
     */
    type: 'verification.succeeded';
    /** Which verifier answered: the JWT verifier, or introspection. */
    verifier: 'jwt' | 'introspection';
    /** Answered from the verified-token (or introspection) cache. */
    cached: boolean;
  }
  | { type: 'verification.rejected'; code: string; reason: string }
  /** The DPoP replay store failed (Redis unreachable, store full): the request got a 503, not an unchecked admission. `error` is sanitised. */
  | { type: 'dpop.replay_store_failed'; error: Error }
  /** Discovery failed: once per failed metadata fetch (requests during its failure cooldown do not repeat it). */
  | { type: 'verification.discovery_failed'; issuerBaseURL: string; error: Error }
  | { type: 'verification.cache_flushed'; reason: 'keys_changed'; entries: number }
  /**
   * An introspection request failed (unreachable, slow, an error status, garbage, a signed answer
   * that does not verify): once per failed request; the request got a 503. `error` names the
   * endpoint and the cause, never the token.
   */
  /** An introspection request was answered (once per call, not per cached answer): `active` is the endpoint's word. */
  | {
    /** The event's type. */
    type: 'introspection.completed';
    /** The introspection endpoint asked. */
    endpoint: string;
    /** The endpoint's answer. */
    active: boolean;
  }
  | {
    /** The event's type. */
    type: 'introspection.failed';
    /** The introspection endpoint asked (or `the introspection endpoint` when discovery named none). */
    endpoint: string;
    /** What went wrong (an `UpstreamError`). */
    error: Error;
  };

/**
 * Options of {@link createVerifier}. Exactly one source of keys: `jwksUri` (or the `jwks_uri`
 * discovered from `issuerBaseURL`), `publicKey`, `secret`, or a ready `keySource`. An issuer
 * (`issuer` or `issuerBaseURL`) and an `audience` are required.
 *
 * @example
 * ```ts
 * import type { VerifierOptions } from 'express-m2m';
 *
 * const options: VerifierOptions = {
 *   issuerBaseURL: 'https://issuer.example/',
 *   audience: 'https://api.example',
 *   algorithms: ['RS256'],
 *   strictTokenType: true,
 *   scopeClaim: 'scp',
 *   jwks: { cooldownDuration: 30_000 },
 * };
 * ```
 */
export interface VerifierOptions {
  /**
   * Base URL of the issuer, for OIDC / RFC 8414 discovery. Discovery gives the expected `iss`
   * (unless `issuer` is set) and the `jwks_uri` (unless `jwksUri`, `publicKey`, `secret` or
   * `keySource` is set). A failed discovery makes `verify` throw `KeySourceUnavailableError` (503).
   */
  issuerBaseURL?: string;
  /** Expected `iss` claim (exact match). Required unless `issuerBaseURL` is set. */
  issuer?: string;
  /**
   * Expected `aud`: the token's `aud` (a string or an array) must contain at least one of these.
   * Required (unless a `claims.aud` rule replaces this check): a resource server that accepts
   * tokens minted for any audience accepts tokens meant for other APIs (see
   * {@link AudienceRuleVerifierOptions} for the options without it).
   */
  audience: string | string[];
  /** URL of the issuer's JWK Set. Default: the `jwks_uri` from discovery. */
  jwksUri?: string;
  /**
   * A static public key to verify with instead of a JWKS: PEM (SPKI, PKCS#1 or certificate), a
   * public JWK, a JWK Set or a public `KeyObject` (see `createKeySource`).
   */
  publicKey?: KeySourceOptions['publicKey'];
  /**
   * A shared secret (UTF-8 string or bytes, at least 32 bytes): enables HS256/384/512 and only
   * those (HS384 needs 48 bytes, HS512 64).
   */
  secret?: KeySourceOptions['secret'];
  /** A ready key source (anything implementing the `KeySource` contract) instead of the options above. */
  keySource?: KeySource;
  /**
   * Allowed `alg` values. Default: every algorithm the key source can serve (asymmetric ones for a
   * JWKS or public key; HS256/384/512 for a secret). Never `none`; HS* only with `secret`.
   */
  algorithms?: readonly JwsAlgorithm[];
  /** Leeway for `exp`, `nbf`, `iat` and `maxTokenAge`, in seconds. Default 5. */
  clockTolerance?: number;
  /** Largest accepted token age (`now - iat`), in seconds; makes `iat` required. Default: no limit. */
  maxTokenAge?: number;
  /**
   * `true`: the `typ` header must be `at+jwt` or `application/at+jwt` (RFC 9068). Default `false`:
   * also accepts `JWT` (as Auth0 issues) and tokens without `typ`; other values are refused either way.
   */
  strictTokenType?: boolean;
  /** Claims that must be present, besides `exp` (always), `iss` and `aud`. Default none. */
  requiredClaims?: string[];
  /**
   * Rules of the application's own for claims (a value, a list of values or a predicate, sync or
   * async), refused with 401 `invalid_token`; rules for `iss` and `aud` replace the default
   * checks. See {@link ClaimRules}. Default none.
   */
  claims?: ClaimRules;
  /**
   * Claim holding the granted scopes: a space-separated string (`scope`) or an array of strings
   * (`scp`, Auth0's `permissions`). Default `'scope'`.
   */
  scopeClaim?: string;
  /** Longest accepted token, in characters; longer tokens are refused before any parsing. Default 8192. */
  maxTokenLength?: number;
  /**
   * Cache of verified tokens (keyed by the token's SHA-256): a token seen again costs one hash and
   * one lookup until it expires, or until the keys that verified it stop being fresh. `false`
   * turns it off; `true` is the default. Bounded by `maxEntries` (default 10000) and by
   * `maxBytes`, an estimate of the memory held (2 bytes per token character plus 256 per entry;
   * default 33554432, 32 MiB), least recently used first out. Worst case about `maxBytes`.
   */
  verifiedTokenCache?: boolean | { maxEntries?: number; maxBytes?: number };
  /** Options of the remote JWKS key source (timeouts, cache, cooldown), passed through. */
  jwks?: JwksOptions;
  /** How the metadata found from `issuerBaseURL` is cached and retried (its requests take `jwks.timeoutDuration`). */
  discovery?: DiscoveryTuning;
  /** Receives verification and key-source events. Default: none. */
  onEvent?: (event: VerifierEvent) => void;
  /** Clock in milliseconds since the epoch, for tests. Default `Date.now`. */
  now?: () => number;
  /**
   * The transport of discovery and JWKS requests (a proxy, a pinned CA, a client certificate):
   * any function with the signature of `fetch`. Default: the global `fetch`.
   */
  fetch?: FetchLike;
  /**
   * Allow plain-http `issuerBaseURL` and `jwksUri` that are not loopback addresses (keys fetched in
   * clear can be swapped: for test networks only). Default `false`; loopback http is always allowed.
   */
  allowInsecureHttp?: boolean;
}

/**
 * Options of {@link createVerifier} whose `claims.aud` rule replaces the `audience` check (an
 * `audience` list cannot say it: audiences by pattern, say).
 *
 * @example
 * ```ts
 * import { createVerifier, type AudienceRuleVerifierOptions } from 'express-m2m';
 *
 * const options: AudienceRuleVerifierOptions = {
 *   issuerBaseURL: 'https://issuer.example/',
 *   claims: { aud: (aud) => (typeof aud === 'string' ? [aud] : aud).some((value) => value.startsWith('https://api.example/')) },
 * };
 * const verifier = createVerifier(options);
 * ```
 */
export type AudienceRuleVerifierOptions = Omit<VerifierOptions, 'audience' | 'claims'> & {
  /** Not with a `claims.aud` rule. */
  audience?: undefined;
  /** The rules, with one for `aud`. */
  claims: ClaimRules & {
    /** The rule that replaces the `audience` check. */
    aud: NonNullable<ClaimRules['aud']>;
  };
};

/**
 * The options after validation and defaults, as the verifier uses them (frozen).
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ issuer: 'https://issuer.example/', audience: 'https://api.example', publicKey: pem });
 * verifier.options.algorithms; // ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] for an RSA key
 * ```
 */
export interface ResolvedVerifierOptions {
  /** Expected `iss`; `undefined` until discovery when only `issuerBaseURL` was given. */
  readonly issuer: string | undefined;
  /** Base URL used for discovery, if any. */
  readonly issuerBaseURL: string | undefined;
  /** Accepted audiences (the token's `aud` must contain one); empty when a `claims.aud` rule replaces the check. */
  readonly audience: readonly string[];
  /** The `alg` allowlist. */
  readonly algorithms: readonly JwsAlgorithm[];
  /** Leeway for time claims, in seconds. */
  readonly clockTolerance: number;
  /** Largest token age in seconds, or `undefined` for no limit. */
  readonly maxTokenAge: number | undefined;
  /** Whether `typ` must be `at+jwt`. */
  readonly strictTokenType: boolean;
  /** Claims required besides `exp`, `iss`, `aud`. */
  readonly requiredClaims: readonly string[];
  /** Claim the scopes are read from. */
  readonly scopeClaim: string;
  /** Longest accepted token, in characters. */
  readonly maxTokenLength: number;
  /** The verified-token cache settings, or `false` when off. */
  readonly verifiedTokenCache: false | { readonly maxEntries: number; readonly maxBytes: number };
}

/**
 * A configured JWT verifier: see {@link createVerifier}. `verify` throws (or rejects with)
 * `InvalidTokenError` (401) for a bad token and `KeySourceUnavailableError` (503) when keys
 * cannot be had; anything else a custom `keySource` throws (a bug) is passed through unchanged.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example' });
 * await verifier.warmUp();
 * const result = verifier.verify(token);
 * const auth = result instanceof Promise ? await result : result; // or simply: await verifier.verify(token)
 * verifier.close();
 * ```
 */
export interface JwtVerifier extends TokenVerifier {
  /** The validated options. */
  readonly options: ResolvedVerifierOptions;
}
