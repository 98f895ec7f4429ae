/**
 * DPoP at the token endpoint (RFC 9449 sections 4.2, 5 and 8), against a token endpoint of the
 * test's own that checks each proof independently (jose, see dpop-servers.ts) and can answer what
 * oidc-provider cannot be made to (a Bearer token to a DPoP request, a new nonce with every answer).
 */
import { clientCredentials, jwkThumbprint, TokenRequestError, type OutboundEvent, type TokenProvider } from 'express-m2m';
import { CLIENT_ID, CLIENT_SECRET, startAuthorizationServer, startResourceServer, type TestAuthorizationServer, type TestResourceServer } from './dpop-servers.js';

let as: TestAuthorizationServer;
let rs: TestResourceServer;
const providers: TokenProvider[] = [];
let events: OutboundEvent[];

beforeAll(async () => {
  as = await startAuthorizationServer();
  rs = await startResourceServer(as);
});
afterAll(async () => {
  await as.close();
  await rs.close();
});
beforeEach(() => {
  as.reset();
  rs.reset();
  events = [];
});
afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.close()));
});

function provider(extra: Record<string, unknown> = {}): TokenProvider {
  const made = clientCredentials({
    tokenEndpoint: as.tokenEndpoint,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    audience: 'https://api.example',
    maxRetries: 0,
    failureCooldownDuration: 0,
    dpop: true,
    onEvent: (event) => events.push(event),
    ...extra,
  });
  providers.push(made);
  return made;
}

async function rejection(promise: Promise<unknown>): Promise<TokenRequestError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(TokenRequestError);
  return error as TokenRequestError;
}

describe('RFC 9449 section 4.2: every token request carries a new proof for the token endpoint', () => {
  it('has typ dpop+jwt, the algorithm, the public JWK only, htm POST, htu the endpoint, iat and a random jti', async () => {
    const billing = provider({ tokenEndpoint: `${as.tokenEndpoint}?tenant=a#frag` });
    const before = Math.floor(Date.now() / 1000);
    await billing.getToken();
    expect(as.requests).toHaveLength(1);
    const { proof, problem } = as.requests[0]!;
    expect(problem).toBeUndefined();
    expect(proof!.header.typ).toBe('dpop+jwt');
    expect(proof!.header.alg).toBe('ES256');
    expect(Object.keys(proof!.header.jwk!).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(proof!.header.jwk).toEqual(billing.dpop!.publicJwk);
    expect(proof!.claims.htm).toBe('POST');
    expect(proof!.claims.htu).toBe(as.tokenEndpoint);
    expect(proof!.claims.iat).toBeGreaterThanOrEqual(before);
    expect(proof!.claims.iat).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(Buffer.from(proof!.claims.jti as string, 'base64url')).toHaveLength(16);
    expect(proof!.claims).not.toHaveProperty('ath');
    expect(proof!.claims).not.toHaveProperty('nonce');
  });

  it('signs a new proof (another jti) for each request, with the same key', async () => {
    const billing = provider();
    await billing.getToken();
    await billing.getToken({ forceRefresh: true });
    await billing.getToken({ forceRefresh: true });
    const jtis = as.requests.map((request) => request.proof!.claims.jti);
    expect(new Set(jtis).size).toBe(3);
    expect(new Set(as.requests.map((request) => request.proof!.jkt))).toEqual(new Set([billing.dpop!.jkt]));
  });
});

describe('RFC 9449 section 5: the token is DPoP-bound (token_type DPoP, cnf.jkt of the key)', () => {
  it('accepts token_type DPoP; the token\'s cnf.jkt is the RFC 7638 thumbprint of the provider\'s key', async () => {
    const billing = provider();
    const tokenSet = await billing.getTokenSet();
    expect(tokenSet.tokenType).toBe('DPoP');
    const claims = await as.verify(tokenSet.accessToken);
    expect(claims.cnf).toEqual({ jkt: jwkThumbprint(billing.dpop!.publicJwk as Record<string, unknown>) });
    expect(billing.dpop!.jkt).toBe(jwkThumbprint(billing.dpop!.publicJwk as Record<string, unknown>));
  });

  it('refuses a Bearer token when DPoP was asked for (ERR_TOKEN_NOT_BOUND, not retried)', async () => {
    as.settings.bearer = true;
    const billing = provider({ maxRetries: 2 });
    const error = await rejection(billing.getToken());
    expect(error.code).toBe('ERR_TOKEN_NOT_BOUND');
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/issued a Bearer token although a DPoP proof was sent/);
    expect(error.message).toMatch(/dpop\.allowBearerDowngrade/);
    expect(as.requests).toHaveLength(1);
  });

  it('accepts the Bearer token with allowBearerDowngrade, and presents it as Bearer', async () => {
    as.settings.bearer = true;
    const billing = provider({ dpop: { allowBearerDowngrade: true } });
    const tokenSet = await billing.getTokenSet();
    expect(tokenSet.tokenType).toBe('Bearer');
    const response = await billing.fetch(`${rs.url}/invoices`);
    await response.arrayBuffer();
    expect(rs.requests[0]!.authorization).toBe(`Bearer ${tokenSet.accessToken}`);
  });
});

describe('RFC 9449 section 8: authorization server nonces', () => {
  it('answers 400 use_dpop_nonce with exactly one retry carrying the nonce', async () => {
    as.settings.requireNonce = true;
    as.nonce = 'as-nonce-1';
    const billing = provider();
    const tokenSet = await billing.getTokenSet();
    expect(tokenSet.tokenType).toBe('DPoP');
    expect(as.requests.map((request) => [request.status, request.proof?.claims.nonce ?? request.problem])).toEqual([
      [400, 'nonce'],
      [200, 'as-nonce-1'],
    ]);
    expect(events.filter((event) => event.type === 'token.retry')).toEqual([]); // not a backoff retry
  });

  it('remembers the nonce: the next token request carries it at once', async () => {
    as.settings.requireNonce = true;
    const billing = provider();
    await billing.getToken();
    await billing.getToken({ forceRefresh: true });
    expect(as.requests.map((request) => request.status)).toEqual([400, 200, 200]);
    expect(as.requests[2]!.proof!.claims.nonce).toBe(as.nonce);
  });

  it('does not retry a second time when the retry is refused too', async () => {
    as.settings.requireNonce = true;
    as.settings.staleNonces = true; // every nonce sent is refused, with a new one
    const billing = provider();
    const error = await rejection(billing.getToken());
    expect(error.code).toBe('ERR_TOKEN_REJECTED');
    expect(error.error).toBe('use_dpop_nonce');
    expect(as.requests).toHaveLength(2);
  });

  it('does not retry a use_dpop_nonce that brings no nonce', async () => {
    as.settings.fail = { status: 400, body: { error: 'use_dpop_nonce' } };
    const billing = provider();
    const error = await rejection(billing.getToken());
    expect(error.error).toBe('use_dpop_nonce');
    expect(as.requests).toHaveLength(1);
  });

  it('updates the nonce from every answer that sends a new one (a success, a 503 too)', async () => {
    as.settings.rotateNonce = true;
    const billing = provider();
    await billing.getToken();
    const first = as.nonce;
    as.settings.fail = { status: 503, body: { error: 'temporarily_unavailable' } };
    await rejection(billing.getToken({ forceRefresh: true }));
    const second = as.nonce;
    as.settings.fail = undefined;
    await billing.getToken({ forceRefresh: true });
    expect(as.requests.map((request) => request.proof!.claims.nonce)).toEqual([undefined, first, second]);
    expect(first).not.toBe(second);
  });

  it('keeps the authorization server\'s nonce to itself: a resource server never gets it', async () => {
    as.settings.requireNonce = true;
    const billing = provider();
    const response = await billing.fetch(`${rs.url}/invoices`);
    expect(response.status).toBe(200);
    expect(rs.requests[0]!.proof!.claims).not.toHaveProperty('nonce');
  });
});
