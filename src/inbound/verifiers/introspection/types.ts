/** Public types of token introspection (RFC 7662, RFC 9701): the `introspection` option of an issuer. */
import type { ClientAuthMethod } from '../../../outbound/client-auth/client-authenticator.js';
import type { ClientPrivateKey } from '../../../outbound/client-auth/private-key-jwt.js';

/**
 * How the answers of the introspection endpoint are cached, per token (by its SHA-256, never the
 * token itself). Durations in milliseconds.
 *
 * @example
 * ```ts
 * import type { IntrospectionCacheOptions } from 'express-m2m';
 *
 * const cache: IntrospectionCacheOptions = { maxAge: 30_000, inactiveMaxAge: 5000, maxEntries: 50_000 };
 * ```
 */
export interface IntrospectionCacheOptions {
  /**
   * Longest an "active" answer is used, capped at the token's `exp`. Default 60000 (60 s): a token
   * revoked at the authorization server, which is what introspection is for, stops working within
   * a minute, while a busy token costs one call a minute.
   */
  maxAge?: number;
  /**
   * How long an "inactive" answer (or a refusal of the answer's claims) is remembered, so that a
   * flood of the same bad token makes one call, not a flood of calls. Default 10000 (10 s).
   */
  inactiveMaxAge?: number;
  /** Most tokens whose answers are kept (least recently used first out). Default 10000. */
  maxEntries?: number;
}

/**
 * The `introspection` option of an issuer (of `requireAuth`, `createAuthenticator` or an entry of
 * `issuers`): its tokens, or those that are not JWTs, are checked by asking its RFC 7662
 * introspection endpoint, authenticated as this resource server. The answer's claims (`iss`,
 * `aud`, `exp`, `nbf`, `iat`, `scope`, `client_id`, `sub`) are checked as a JWT's would be.
 *
 * @example
 * ```ts
 * import { requireAuth } from 'express-m2m';
 *
 * app.use(requireAuth({
 *   issuerBaseURL: 'https://issuer.example/', // its metadata names the introspection_endpoint
 *   audience: 'https://api.example',
 *   introspection: { clientId: 'orders-api', clientSecret: process.env.INTROSPECTION_SECRET ?? 'placeholder' },
 * }));
 * ```
 */
export interface IntrospectionOptions {
  /**
   * The introspection endpoint. Default: the `introspection_endpoint` of the metadata discovered
   * from `issuerBaseURL` (whose `issuer` must be the configured one).
   */
  endpoint?: string;
  /** The resource server's client id at the authorization server. Required. */
  clientId: string;
  /** Its client secret, for `client_secret_basic` and `client_secret_post`. */
  clientSecret?: string;
  /** Its private key, for `private_key_jwt`: PKCS#8 PEM, private JWK or `KeyObject`. */
  privateKey?: ClientPrivateKey;
  /** JWS algorithm of the client assertion. Default: the JWK's `alg`, else by key type (RS256, ES256, ...). */
  privateKeyAlg?: string;
  /** `kid` header of the client assertion. Default none. */
  privateKeyKid?: string;
  /**
   * How the resource server authenticates at the endpoint. Default `client_secret_basic` with a
   * `clientSecret`, `private_key_jwt` with a `privateKey`.
   */
  authMethod?: ClientAuthMethod;
  /**
   * Which tokens are introspected: `'opaque'`, those that are not JWTs (not three dot-separated
   * segments), the JWTs being verified with the issuer's keys as usual; or `'all'`. Default
   * `'opaque'`.
   */
  tokens?: 'opaque' | 'all';
  /**
   * `true`: ask for signed answers (RFC 9701, `Accept: application/token-introspection+jwt`) and
   * accept only those: `typ` `token-introspection+jwt`, signed with the issuer's keys, `iss` the
   * issuer, `aud` the `clientId`. Default `false` (few servers support it; the answer comes over
   * TLS from the configured endpoint either way).
   */
  jwtResponse?: boolean;
  /** How answers are cached, or `false` to ask on every request. See {@link IntrospectionCacheOptions}. */
  cache?: false | IntrospectionCacheOptions;
  /** Longest one introspection request may take, in milliseconds (a 503 past it). Default 5000. */
  timeoutDuration?: number;
  /**
   * Most introspection requests in flight at once: requests for other new tokens wait for a free
   * slot (at most `timeoutDuration`), so a flood of distinct made-up tokens cannot become a flood
   * of requests to the authorization server. Default 16.
   */
  maxConcurrent?: number;
  /** Most requests waiting for a slot; past it a request gets a 503 at once. Default 256. */
  maxQueued?: number;
  /**
   * After a failed request (unreachable, slow, an error status, garbage), new tokens get a 503
   * without a request for a while: 1 s after the first failure, doubling per consecutive failure
   * up to this, in milliseconds (or as long as a 429 or 503 answer's `Retry-After` asks, up to
   * 5 minutes). Default 5000.
   */
  failureCooldownDuration?: number;
}
