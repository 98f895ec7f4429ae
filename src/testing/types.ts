/**
 * Public types of the local authorization server (`express-m2m/testing`).
 */
import type { LocalIssuerTls, LocalIssuerTlsOptions, LocalSelfSignedTlsClientAuth, LocalTlsClientAuth } from './mtls.js';
import type { KeyObject } from 'node:crypto';
import type { CryptoKey, JWK } from 'jose';

/**
 * Asymmetric JWS algorithms the local issuer can hold keys for and serve in its JWKS.
 *
 * @example
 * ```ts
 * const alg: LocalIssuerAlgorithm = 'EdDSA';
 * ```
 */
export type LocalIssuerAlgorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA';

/**
 * The issuer endpoints that faults can be injected into and that are counted.
 *
 * @example
 * ```ts
 * const endpoint: LocalIssuerEndpoint = 'jwks';
 * issuer.setFault(endpoint, { status: 500 });
 * ```
 */
export type LocalIssuerEndpoint = 'discovery' | 'jwks' | 'token' | 'introspection';

/**
 * A JSON Web Key Set.
 *
 * @example
 * ```ts
 * const jwks: JsonWebKeySet = issuer.publicJwks();
 * ```
 */
export interface JsonWebKeySet {
  keys: JWK[];
}

/**
 * A client registered with the local issuer (like an application authorized for an API in the
 * seeds' "authorized clients"). It authenticates with `clientSecret` (client_secret_basic /
 * client_secret_post) and/or a public key (private_key_jwt, RFC 7523).
 *
 * @example
 * ```ts
 * const client: LocalClient = { clientId: 'billing', clientSecret: 's3cret', audiences: ['https://api.example'], scopes: ['read:orders'] };
 * const keyed: LocalClient = { clientId: 'reports', publicKey: await exportJWK(publicKey), audiences: ['https://api.example'] };
 * ```
 */
export interface LocalClient {
  /** The client id. */
  clientId: string;
  /** The client secret, for `client_secret_basic` and `client_secret_post`. Default: none. */
  clientSecret?: string;
  /**
   * The client's public key for `private_key_jwt`: a JWK, a JWK Set, a PEM (SPKI) string or a
   * `KeyObject`. Default: none (the client cannot use private_key_jwt).
   */
  publicKey?: JWK | JsonWebKeySet | string | KeyObject;
  /** Same as `publicKey` given as a JWK Set. */
  jwks?: JsonWebKeySet;
  /**
   * The audiences (API identifiers, `audience` or `resource` parameter values) this client may get
   * tokens for. The first one is used when a request names none. Required, at least one.
   */
  audiences: string[];
  /** The scopes this client may get. A request without `scope` gets all of them. Default: none. */
  scopes?: string[];
  /** Lifetime of this client's access tokens, in seconds. Default: the issuer's `tokenLifetime`. */
  tokenLifetime?: number;
  /**
   * `true`: the token endpoint issues this client opaque access tokens (random strings that only
   * the introspection endpoint can tell about) instead of JWTs. Default `false`.
   */
  opaqueTokens?: boolean;
  /**
   * `true`: the client must send a DPoP proof with every token request, and always gets
   * DPoP-bound tokens (RFC 9449 section 5.2 `dpop_bound_access_tokens`). Default `false` (a
   * request with a proof gets a bound token, one without a Bearer token).
   */
  dpopBoundAccessTokens?: boolean;
  /**
   * RFC 8705 section 2.1 `tls_client_auth` (issuer created with `tls`): the client authenticates
   * at the mTLS token endpoint with a certificate of a trusted CA whose subject DN or SAN is this.
   * Default: none.
   */
  tlsClientAuth?: LocalTlsClientAuth;
  /** RFC 8705 section 2.2 `self_signed_tls_client_auth`: the self-signed certificates the client may present. Default: none. */
  selfSignedTlsClientAuth?: LocalSelfSignedTlsClientAuth;
}

/**
 * Options of `createLocalIssuer`.
 *
 * @example
 * ```ts
 * const issuer = await createLocalIssuer({ alg: 'ES256', tokenLifetime: 300, jwksCacheControl: 'max-age=600' });
 * ```
 */
export interface LocalIssuerOptions {
  /** Interface to listen on. Default `'127.0.0.1'`. */
  host?: string;
  /** Port to listen on. Default `0` (an ephemeral port). */
  port?: number;
  /** Algorithm of the issuer's current signing key. Default `'RS256'`. */
  alg?: LocalIssuerAlgorithm;
  /** Clients registered from the start. More can be added with `registerClient`. Default none. */
  clients?: LocalClient[];
  /** Lifetime of minted access tokens (`exp - iat`, `expires_in`), in seconds. Default 3600. */
  tokenLifetime?: number;
  /** JWT `typ` header of minted access tokens. Default `'at+jwt'` (RFC 9068). */
  tokenType?: string;
  /** `Cache-Control` header value of the JWKS response. Default: no header. */
  jwksCacheControl?: string;
  /** Path prefix of the issuer, e.g. `'/tenant-a'`. Default `''`. */
  path?: string;
  /**
   * Longest accepted lifetime of a `private_key_jwt` client assertion (`exp` minus now), in
   * seconds. Default 300.
   */
  maxAssertionLifetime?: number;
  /** Largest accepted token request body, in bytes. Default 65536. */
  maxBodySize?: number;
  /** Clock in milliseconds since the epoch, for tests. Default `Date.now`. */
  now?: () => number;
  /**
   * Serve https, with mutual TLS (RFC 8705) at the token endpoint's mTLS alias
   * (`mtls_endpoint_aliases.token_endpoint`): `tls_client_auth`, `self_signed_tls_client_auth`
   * and certificate-bound tokens. `{}` makes a throwaway CA and server certificate
   * (`issuer.tls.ca` to trust). Default: plain http.
   */
  tls?: LocalIssuerTlsOptions;
  /**
   * DPoP at the token endpoint (RFC 9449): `nonce: true` requires the issuer's nonce in every
   * proof (400 `use_dpop_nonce` with a `DPoP-Nonce` header first, section 8). Default: proofs are
   * checked, no nonce.
   */
  dpop?: {
    /** Require the issuer's nonce in every token request proof. Default `false`. */
    nonce?: boolean;
  };
}

/**
 * What the local issuer's token endpoint did with DPoP proofs (`issuer.dpopCounts`).
 *
 * @example
 * ```ts
 * const { accepted, refused, nonceChallenges }: LocalDpopCounts = issuer.dpopCounts;
 * ```
 */
export interface LocalDpopCounts {
  /** Proofs accepted (a DPoP-bound token was issued). */
  readonly accepted: number;
  /** Token requests refused with `invalid_dpop_proof`. */
  readonly refused: number;
  /** Token requests answered `use_dpop_nonce`. */
  readonly nonceChallenges: number;
}

/**
 * A misbehaviour the local issuer shows on one endpoint (see `setFault`). With only `delay` and/or
 * `headers` the normal answer comes (late, with those headers added or replaced); `hang`,
 * `destroy`, `html`, `status` or `body` replace the answer.
 * Faulted requests are still counted.
 *
 * @example
 * ```ts
 * issuer.setFault('token', { status: 429, headers: { 'Retry-After': '2' }, times: 1 });
 * issuer.setFault('jwks', { html: true });      // 200 text/html
 * issuer.setFault('jwks', { body: '{"keys":' }); // 200 garbage
 * issuer.setFault('discovery', { hang: true });  // never answers
 * issuer.setFault('jwks', null);                 // back to normal
 * ```
 */
export interface Fault {
  /** HTTP status of the replaced answer. Default 200 when `body` is given, else 500. */
  status?: number;
  /**
   * Body of the replaced answer. Sent as `application/json` when it parses as JSON, otherwise as
   * `text/plain` (override with `headers`). Default: a JSON `{ error, error_description }`.
   */
  body?: string;
  /** Extra response headers, e.g. `{ 'Retry-After': '2' }` or, on a normal answer, `{ 'Cache-Control': 'max-age=5' }`. */
  headers?: Record<string, string>;
  /** Milliseconds to wait before answering (normally, or with the fault). Default 0. */
  delay?: number;
  /** Never answer (the connection stays open until the client gives up or `close()`). */
  hang?: boolean;
  /** Drop the connection without an answer. */
  destroy?: boolean;
  /** Answer 200 with an HTML page (a captive portal, a misrouted proxy). */
  html?: boolean;
  /** Apply to the next N requests only, then clear. Default: until cleared. */
  times?: number;
}

/**
 * What a client put on the wire in a token request.
 *
 * @example
 * ```ts
 * expect(issuer.lastTokenRequest?.params).toMatchObject({ grant_type: 'client_credentials', audience: 'https://api' });
 * ```
 */
export interface RecordedTokenRequest {
  /** Request headers (lower-case names, as node parses them). */
  headers: Record<string, string | string[] | undefined>;
  /** The raw request body. */
  body: string;
  /** The `Content-Type` header, or undefined. */
  contentType: string | undefined;
  /** Parsed body parameters (a repeated parameter is an array); empty when the body did not parse. */
  params: Record<string, string | string[]>;
}

/**
 * Options of `issuer.sign()`.
 *
 * @example
 * ```ts
 * await issuer.sign({ aud: 'https://api' }, { alg: 'none' });                            // unsigned
 * await issuer.sign({ aud: 'https://api' }, { alg: 'HS256', key: issuer.publicKeyPem() }); // HS/RS confusion
 * await issuer.sign({ aud: 'https://api' }, { header: { crit: ['x'], x: 1 } });          // unknown crit
 * await issuer.sign({ aud: 'https://api' }, { kid: 'no-such-kid' });                     // unknown kid
 * ```
 */
export interface LocalSignOptions {
  /**
   * Signature algorithm. Default: the algorithm of the key named by `kid`, else of `key` (RSA ->
   * RS256, EC -> by curve, Ed25519 -> EdDSA, bytes/string -> HS256), else the issuer's `alg`.
   * `'none'` makes an unsigned token. HS* needs `key` (any bytes, e.g. an RSA public key PEM).
   * An asymmetric algorithm the issuer has no key for yet gets a new key, served in the JWKS.
   */
  alg?: string;
  /**
   * `kid` header. When it names one of the issuer's keys (and no `key` is given), that key signs.
   * Default: the kid of the issuer's current key for the algorithm (with `key`, or an HS `alg`: the
   * current key of that algorithm, else of the issuer's `alg`, so the token points at a real key).
   */
  kid?: string;
  /** Header parameters merged last: override or add anything (`crit`, `jku`, `typ`, ...); `undefined` removes. */
  header?: Record<string, unknown>;
  /** Sign with this key instead of the issuer's (PEM private key string, `KeyObject`, `CryptoKey`, or HS bytes/string). */
  key?: KeyObject | CryptoKey | Uint8Array | string;
  /** `exp` = `iat` + this, in seconds, when `exp` is not in the claims. Default: `tokenLifetime`. */
  expiresIn?: number;
  /** Do not add `iss`, `iat`, `exp`, `jti` (claims) nor `typ` (header). */
  noDefaults?: boolean;
  /**
   * The exact text of the header segment (before base64url), replacing the built header, e.g.
   * `'{"alg":"RS256",'` to test a validly signed token whose header is not JSON. Default: none.
   */
  rawHeader?: string;
  /** The exact text of the payload segment, replacing the claims (e.g. `'not json'`). Default: none. */
  rawPayload?: string;
}

/**
 * Options of `issuer.rotateKeys()`.
 *
 * @example
 * ```ts
 * const kid = issuer.rotateKeys({ keepPrevious: false }); // old tokens stop verifying
 * ```
 */
export interface RotateKeysOptions {
  /** Keep serving the previous current key (only the immediately previous one). Default true. */
  keepPrevious?: boolean;
  /** Algorithm of the key to rotate. Default: the issuer's `alg`. */
  alg?: LocalIssuerAlgorithm;
}

/**
 * Options of `issuer.accessToken()`: an access token as the token endpoint would mint it.
 *
 * @example
 * ```ts
 * const token = await issuer.accessToken({ clientId: 'billing', audience: 'https://api', scope: 'read:orders' });
 * ```
 */
export interface LocalAccessTokenOptions {
  /** Client id (`sub` = `<clientId>@clients`, `azp`, `client_id`). Default `'test-client'`. */
  clientId?: string;
  /** `aud`. Required. */
  audience: string | string[];
  /** `scope` claim, space-separated or as an array. Default `''`. */
  scope?: string | string[];
  /** Extra or overriding claims. */
  claims?: Record<string, unknown>;
  /** Signing options, as for `sign()`. */
  signOptions?: LocalSignOptions;
}

/**
 * Options of `issuer.mintOpaqueToken()`: the claims the introspection endpoint answers for the
 * token (as the token endpoint would mint them for the client).
 *
 * @example
 * ```ts
 * const token = issuer.mintOpaqueToken({ clientId: 'billing', audience: 'https://api', scope: 'read:orders', expiresIn: 60 });
 * ```
 */
export interface LocalOpaqueTokenOptions {
  /** Client id (`sub` = `<clientId>@clients`, `client_id`). Default `'test-client'`. */
  clientId?: string;
  /** `aud`. Required. */
  audience: string | string[];
  /** `scope`, space-separated or as an array. Default `''`. */
  scope?: string | string[];
  /** Extra or overriding claims (`exp`, `nbf`, `iss`, ...: anything a test needs the answer to say). */
  claims?: Record<string, unknown>;
  /** `exp` = now + this, in seconds, when `exp` is not in the claims. Default: the issuer's `tokenLifetime`. */
  expiresIn?: number;
}

/**
 * A running local authorization server, from `createLocalIssuer`.
 *
 * @example
 * ```ts
 * const issuer = await createLocalIssuer();
 * const auth = requireAuth({ issuerBaseURL: issuer.url, audience: 'https://api' });
 * const token = await issuer.accessToken({ audience: 'https://api' });
 * expect(issuer.counts.jwks).toBe(0);
 * await issuer.close();
 * ```
 */
export interface LocalIssuer {
  /** Issuer base URL (`issuerBaseURL`), no trailing slash, e.g. `http://127.0.0.1:PORT` (`https:` with `tls`). */
  readonly url: string;
  /** With the `tls` option: the CA to trust, the mTLS token endpoint, client certificates. Otherwise undefined. */
  readonly tls: LocalIssuerTls | undefined;
  /** The `iss` value of minted tokens and of the metadata, with a trailing slash (Auth0-shaped). */
  readonly issuer: string;
  /** `${url}/.well-known/jwks.json`. */
  readonly jwksUri: string;
  /** `${url}/oauth/token`. */
  readonly tokenEndpoint: string;
  /** `${url}/oauth/introspect` (RFC 7662), also named `introspection_endpoint` in the metadata. */
  readonly introspectionEndpoint: string;
  /** `${url}/.well-known/openid-configuration`. */
  readonly discoveryUri: string;
  /** The port the server listens on. */
  readonly port: number;
  /** The public JWK Set currently served (a fresh copy). */
  readonly keys: JsonWebKeySet;
  /** Requests received per endpoint, faulted or not. */
  readonly counts: Readonly<Record<LocalIssuerEndpoint, number>>;
  /** The latest token request, or undefined. */
  readonly lastTokenRequest: RecordedTokenRequest | undefined;
  /** Token requests since start or the last `resetCounts()` (the latest 1000). */
  readonly tokenRequests: readonly RecordedTokenRequest[];
  /** Introspection requests since start or the last `resetCounts()` (the latest 1000). */
  readonly introspectionRequests: readonly RecordedTokenRequest[];
  /** Registers (or replaces) a client; generates the id, and a secret when no public key or certificate registration is given. */
  registerClient(
    client: Partial<LocalClient> & { audiences: string[]; publicKey?: undefined; jwks?: undefined; tlsClientAuth?: undefined; selfSignedTlsClientAuth?: undefined },
  ): { clientId: string; clientSecret: string };
  /** Registers (or replaces) a client with a public key (private_key_jwt) or a certificate registration (RFC 8705); a secret only when given. */
  registerClient(client: Partial<LocalClient> & { audiences: string[] }): { clientId: string; clientSecret: string | undefined };
  /** Mints any JWT with the issuer's keys (or another key), including deliberately broken ones. */
  sign(claims: Record<string, unknown>, options?: LocalSignOptions): Promise<string>;
  /** Mints an access token shaped like the token endpoint's, without an HTTP round trip. */
  accessToken(options: LocalAccessTokenOptions): Promise<string>;
  /** Mints an opaque access token (no dots, no claims inside): only the introspection endpoint tells what it grants. */
  mintOpaqueToken(options: LocalOpaqueTokenOptions): string;
  /** Revokes a token (opaque, or a JWT of this issuer): the introspection endpoint answers `active: false` for it from now on. */
  revokeToken(token: string): void;
  /** Adds a key for `alg` to the JWKS (current for that algorithm only if it has none). Returns its kid. */
  addKey(alg?: LocalIssuerAlgorithm): string;
  /** Replaces the current key of an algorithm with a new one. Returns the new kid. */
  rotateKeys(options?: RotateKeysOptions): string;
  /** Stops serving a key. Returns whether it existed. */
  removeKey(kid: string): boolean;
  /** The kid of the current key of `alg` (default the issuer's `alg`). */
  currentKid(alg?: LocalIssuerAlgorithm): string;
  /** The public JWK Set currently served (a fresh copy). */
  publicJwks(): JsonWebKeySet;
  /** The public key (SPKI PEM) with this kid, default the current key. */
  publicKeyPem(kid?: string): string;
  /** The private key with this kid, default the current key (to sign with jose directly). */
  privateKey(kid?: string): KeyObject;
  /** Sets (or with `null`/no fault clears) a fault on an endpoint. */
  setFault(endpoint: LocalIssuerEndpoint, fault?: Fault | null): void;
  /** Clears every fault. */
  clearFaults(): void;
  /** What the token endpoint did with DPoP proofs. */
  readonly dpopCounts: LocalDpopCounts;
  /** Sets the counters to zero and forgets recorded token requests. */
  resetCounts(): void;
  /** Stops the server and drops every open connection (hanging ones included). */
  close(): Promise<void>;
}
