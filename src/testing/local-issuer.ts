/**
 * `createLocalIssuer()`: a small, real OAuth 2.0 authorization server on loopback for tests and
 * demos: discovery (OIDC and RFC 8414), a JWKS, a `client_credentials` token endpoint, a signer
 * for any token (broken ones included), key rotation, hit counters and fault injection.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toRegisteredClient } from './client-registry.js';
import type { RegisteredClient } from './client-registry.js';
import { applyFaultTo, FaultTable } from './faults.js';
import { headerLines, headerValue, readBody, sendAnswer, sendJson } from './http-io.js';
import { handleIntrospectionRequest, issuerIntrospectionContext } from './introspection-endpoint.js';
import { OpaqueTokenStore } from './opaque-tokens.js';
import { KeyRing, LOCAL_ISSUER_ALGORITHMS, isLocalIssuerAlgorithm } from './key-ring.js';
import type { RingKey } from './key-ring.js';
import { createLocalDpop } from './dpop-token-request.js';
import { checkLocalIssuerOptions } from './local-issuer-options.js';
import { createIssuerServer, issuerTls, MTLS_TOKEN_PATH, mtlsMetadata, presentedCertificate } from './mtls.js';
import { TokenSigner } from './token-signer.js';
import { errorAnswer, handleTokenRequest } from './token-endpoint.js';
import type { TokenEndpointContext } from './token-endpoint.js';
import { paramsToRecord, parseTokenRequestBody } from './token-request-body.js';
import type {
  Fault,
  LocalClient,
  LocalIssuer,
  LocalIssuerEndpoint,
  LocalIssuerOptions,
  RecordedTokenRequest,
  RotateKeysOptions,
} from './types.js';

/** How many token requests `tokenRequests` keeps (the most recent). */
const MAX_RECORDED_TOKEN_REQUESTS = 1000;

/**
 * Starts a local OAuth 2.0 authorization server on 127.0.0.1 (an ephemeral port by default).
 *
 * Endpoints: `GET /.well-known/openid-configuration` and `/.well-known/oauth-authorization-server`
 * (RFC 8414), `GET /.well-known/jwks.json`, `POST /oauth/token` (`client_credentials`, form or
 * JSON body, `client_secret_basic` / `client_secret_post` / `private_key_jwt`), and `POST
 * /oauth/introspect` (RFC 7662, the caller authenticated like a token request; signed answers of
 * RFC 9701 on `Accept: application/token-introspection+jwt`) for its opaque tokens
 * (`mintOpaqueToken`, or a client with `opaqueTokens: true`) and its JWTs; `revokeToken` makes it
 * answer `active: false`. Tokens look like
 * Auth0's: `iss` with a trailing slash, `sub` = `<client_id>@clients`, `aud`, `iat`, `exp`,
 * `scope`, `azp`, `gty: 'client-credentials'`, `jti` (and RFC 9068's `client_id`).
 *
 * Always `await issuer.close()` when done (it also drops hanging connections).
 *
 * @example
 * ```ts
 * import { createLocalIssuer } from 'express-m2m/testing';
 *
 * const issuer = await createLocalIssuer({
 *   clients: [{ clientId: 'billing', clientSecret: 's3cret', audiences: ['https://api.example'], scopes: ['read:orders'] }],
 * });
 * const token = await issuer.sign({ sub: 'billing@clients', aud: 'https://api.example', scope: 'read:orders' });
 * issuer.setFault('jwks', { status: 500, times: 1 }); // the next JWKS request fails
 * await issuer.close();
 * ```
 */
export async function createLocalIssuer(options: LocalIssuerOptions = {}): Promise<LocalIssuer> {
  const config = checkLocalIssuerOptions(options);
  const ring = new KeyRing();
  const clients = new Map<string, RegisteredClient>();
  for (const [index, client] of (options.clients ?? []).entries()) {
    const registered = toRegisteredClient(`createLocalIssuer: clients[${index}]`, client as LocalClient, false);
    clients.set(registered.clientId, registered);
  }
  const faults = new FaultTable();
  const counts: Record<LocalIssuerEndpoint, number> = { discovery: 0, jwks: 0, token: 0, introspection: 0 };
  let tokenRequests: RecordedTokenRequest[] = [];
  let introspectionRequests: RecordedTokenRequest[] = [];
  const opaque = new OpaqueTokenStore();
  const seenJtis = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let closing: Promise<void> | undefined;
  const nowSeconds = (): number => Math.floor(config.now() / 1000);

  const server = createIssuerServer(config.tls, (req, res) => {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    route(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: 'local issuer failure' });
      else res.destroy();
    });
  });
  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // The first key is generated (off the event loop) while the server starts listening.
  const [keyResult, listenResult] = await Promise.allSettled([ring.currentForAsync(config.alg), listening]);
  if (keyResult.status === 'rejected' || listenResult.status === 'rejected') {
    server.close();
    throw keyResult.status === 'rejected' ? keyResult.reason : (listenResult as PromiseRejectedResult).reason;
  }
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${config.tls === undefined ? 'http' : 'https'}://${hostForUrl}:${port}${config.path}`;
  const issuerId = `${url}/`;
  const jwksUri = `${url}/.well-known/jwks.json`;
  const tokenEndpoint = `${url}/oauth/token`;
  const introspectionEndpoint = `${url}/oauth/introspect`;
  const discoveryUri = `${url}/.well-known/openid-configuration`;
  const signer = new TokenSigner(ring, {
    alg: config.alg,
    tokenType: config.tokenType,
    tokenLifetime: config.tokenLifetime,
    issuer: issuerId,
    nowSeconds,
  });
  const routes = new Map<string, LocalIssuerEndpoint>([
    [`${config.path}/.well-known/openid-configuration`, 'discovery'],
    [`${config.path}/.well-known/oauth-authorization-server`, 'discovery'],
    [`/.well-known/oauth-authorization-server${config.path}`, 'discovery'],
    [`${config.path}/.well-known/jwks.json`, 'jwks'],
    [`${config.path}/oauth/token`, 'token'],
    ...(config.tls === undefined ? [] : [[`${config.path}${MTLS_TOKEN_PATH}`, 'token'] as const]),
    [`${config.path}/oauth/introspect`, 'introspection'],
  ]);

  function metadata(): Record<string, unknown> {
    const scopes = new Set<string>();
    for (const client of clients.values()) for (const scope of client.scopes) scopes.add(scope);
    return {
      issuer: issuerId,
      jwks_uri: jwksUri,
      token_endpoint: tokenEndpoint,
      introspection_endpoint: introspectionEndpoint,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      introspection_signing_alg_values_supported: ring.algorithms(),
      grant_types_supported: ['client_credentials'],
      response_types_supported: ['token'],
      subject_types_supported: ['public'],
      scopes_supported: [...scopes],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: [...LOCAL_ISSUER_ALGORITHMS],
      id_token_signing_alg_values_supported: ring.algorithms(),
      dpop_signing_alg_values_supported: dpop.algorithms,
      ...mtlsMetadata(config.tls, url),
    };
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }
  const applyFault = (res: ServerResponse, fault: Fault | undefined) => applyFaultTo(res, fault, { sleep, closing: () => closing !== undefined });

  const dpop = createLocalDpop({ requireNonce: config.dpopNonce, now: config.now });
  const tokenContext: TokenEndpointContext = {
    findClient: (clientId) => clients.get(clientId),
    assertionAudiences: [tokenEndpoint, introspectionEndpoint, issuerId, url],
    maxAssertionLifetime: config.maxAssertionLifetime,
    tokenLifetime: config.tokenLifetime,
    now: nowSeconds,
    rememberJti(clientId, jti, expiresAt) {
      const now = nowSeconds();
      for (const [key, exp] of seenJtis) if (exp + 60 < now) seenJtis.delete(key);
      const key = `${clientId}\u0000${jti}`;
      if (seenJtis.has(key)) return false;
      seenJtis.set(key, expiresAt);
      return true;
    },
    mint: async (client, audience, scope, lifetime, claims) => (client.opaqueTokens
      ? opaque.mintAccessToken({ clientId: client.clientId, audience, scope, expiresIn: lifetime, ...(claims && { claims }) }, opaqueDefaults)
      : signer.accessToken({ clientId: client.clientId, audience, scope, signOptions: { expiresIn: lifetime }, ...(claims && { claims }) })),
    dpop,
  };

  const opaqueDefaults = { issuer: issuerId, tokenLifetime: config.tokenLifetime, nowSeconds };

  const introspectionContext = issuerIntrospectionContext(tokenContext, { issuer: issuerId, opaque, ring, signer, now: config.now });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://local-issuer').pathname;
    } catch {
      pathname = '';
    }
    const endpoint = routes.get(pathname);
    if (!endpoint) {
      req.resume();
      sendJson(res, 404, { error: 'not_found', error_description: 'no such endpoint' });
      return;
    }
    counts[endpoint] += 1;
    if (endpoint === 'token' || endpoint === 'introspection') {
      await servePost(endpoint, req, res, pathname === `${config.path}${MTLS_TOKEN_PATH}`);
      return;
    }
    req.resume();
    const extra = await applyFault(res, faults.take(endpoint));
    if (extra === 'answered') return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'invalid_request', error_description: 'use GET' }, { allow: 'GET, HEAD' });
      return;
    }
    if (endpoint === 'discovery') {
      sendJson(res, 200, metadata(), extra);
      return;
    }
    const cacheControl: Record<string, string> = config.jwksCacheControl === undefined ? {} : { 'cache-control': config.jwksCacheControl };
    sendJson(res, 200, ring.jwks(), { ...cacheControl, ...extra });
  }

  async function servePost(endpoint: 'token' | 'introspection', req: IncomingMessage, res: ServerResponse, mtls = false): Promise<void> {
    const { body, tooLarge } = await readBody(req, config.maxBodySize);
    const contentType = headerValue(req.headers['content-type']);
    const parsed = tooLarge ? undefined : parseTokenRequestBody(contentType, body);
    const recorded: RecordedTokenRequest = {
      headers: { ...req.headers },
      body,
      contentType,
      params: parsed?.ok ? paramsToRecord(parsed.params) : {},
    };
    const requests = endpoint === 'token' ? tokenRequests : introspectionRequests;
    requests.push(recorded);
    if (requests.length > MAX_RECORDED_TOKEN_REQUESTS) requests.shift();
    const extra = await applyFault(res, faults.take(endpoint));
    if (extra === 'answered') return;
    if (req.method !== 'POST') {
      sendJson(res, 405, { error: 'invalid_request', error_description: 'use POST' }, { allow: 'POST' });
      return;
    }
    if (parsed === undefined) {
      sendAnswer(res, errorAnswer({ status: 413, error: 'invalid_request', description: `the request body exceeds ${config.maxBodySize} bytes` }));
      return;
    }
    const authorization = headerValue(req.headers.authorization);
    const answer = endpoint === 'token'
      ? await handleTokenRequest(tokenContext, authorization, parsed, {
        url: mtls ? `${url}${MTLS_TOKEN_PATH}` : tokenEndpoint,
        dpopProofs: headerLines(req.rawHeaders, 'dpop'),
        certificate: mtls ? presentedCertificate(req) : undefined,
      })
      : await handleIntrospectionRequest(introspectionContext, authorization, headerValue(req.headers.accept), parsed);
    sendAnswer(res, { ...answer, headers: { ...answer.headers, ...extra } });
  }

  function keyFor(kid: string | undefined): RingKey {
    if (kid === undefined) return ring.currentFor(config.alg);
    const key = ring.byKid(kid);
    if (!key) throw new TypeError(`no key with kid ${JSON.stringify(kid)}`);
    return key;
  }

  const issuer: LocalIssuer = {
    url,
    tls: issuerTls(config.tls, url),
    issuer: issuerId,
    jwksUri,
    tokenEndpoint,
    introspectionEndpoint,
    discoveryUri,
    port,
    get keys() {
      return ring.jwks();
    },
    get counts() {
      return Object.freeze({ ...counts });
    },
    get lastTokenRequest() {
      return tokenRequests[tokenRequests.length - 1];
    },
    get tokenRequests() {
      return [...tokenRequests];
    },
    get introspectionRequests() {
      return [...introspectionRequests];
    },
    get dpopCounts() {
      return dpop.counts;
    },

    // Without a public key a secret is always generated, hence the narrower first overload.
    registerClient: ((client: Partial<LocalClient> & { audiences: string[] }) => {
      const registered = toRegisteredClient('registerClient', client, true);
      clients.set(registered.clientId, registered);
      return { clientId: registered.clientId, clientSecret: registered.clientSecret };
    }) as LocalIssuer['registerClient'],

    sign: (claims, signOptions) => signer.sign(claims, signOptions),

    accessToken: (tokenOptions) => signer.accessToken(tokenOptions),

    mintOpaqueToken: (tokenOptions) => opaque.mintAccessToken(tokenOptions, opaqueDefaults),

    revokeToken(token) {
      if (typeof token !== 'string' || token === '') throw new TypeError('revokeToken: "token" must be a non-empty string');
      opaque.revoke(token);
    },

    addKey(alg = config.alg) {
      if (!isLocalIssuerAlgorithm(alg)) throw new TypeError(`addKey: "alg" must be one of ${LOCAL_ISSUER_ALGORITHMS.join(', ')}`);
      return ring.add(alg).kid;
    },

    rotateKeys(rotateOptions: RotateKeysOptions = {}) {
      const { keepPrevious = true, alg = config.alg } = rotateOptions;
      if (!isLocalIssuerAlgorithm(alg)) throw new TypeError(`rotateKeys: "alg" must be one of ${LOCAL_ISSUER_ALGORITHMS.join(', ')}`);
      return ring.rotate(alg, keepPrevious).kid;
    },

    removeKey(kid) {
      return ring.remove(kid);
    },

    currentKid(alg = config.alg) {
      return ring.currentFor(alg).kid;
    },

    publicJwks() {
      return ring.jwks();
    },

    publicKeyPem(kid) {
      return keyFor(kid).publicPem;
    },

    privateKey(kid) {
      return keyFor(kid).privateKey;
    },

    setFault(endpoint, fault) {
      faults.set(endpoint, fault);
    },

    clearFaults() {
      faults.clear();
    },

    resetCounts() {
      for (const endpoint of Object.keys(counts) as LocalIssuerEndpoint[]) counts[endpoint] = 0;
      tokenRequests = [];
      introspectionRequests = [];
      dpop.resetCounts();
    },

    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
  return issuer;
}
