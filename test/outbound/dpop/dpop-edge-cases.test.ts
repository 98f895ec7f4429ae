/**
 * DPoP outbound at its edges: requests in flight together when a resource server asks for a
 * nonce, a token response without `token_type`, a Bearer downgrade and a "not bound" failure
 * shared through a cache, credentials in a URL. Against the test's own servers (dpop-servers.ts),
 * which check every proof independently.
 */
import { generateKeyPairSync } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { clientCredentials, MemoryTokenCache, TokenRequestError, type TokenProvider } from 'express-m2m';
import type { TokenCache } from 'express-m2m/extend';
import { redisTokenCache } from 'express-m2m/redis';
import { describeRedis, REDIS_URL } from '../../caches/redis-support.js';
import { proofUrl } from '../../../src/outbound/dpop/dpop-proof.js';
import { CLIENT_ID, CLIENT_SECRET, startAuthorizationServer, startResourceServer, type TestAuthorizationServer, type TestResourceServer } from './dpop-servers.js';

let as: TestAuthorizationServer;
let rs: TestResourceServer;
const providers: TokenProvider[] = [];

beforeAll(async () => {
  as = await startAuthorizationServer();
  rs = await startResourceServer(as);
});
afterAll(async () => {
  await Promise.all([as.close(), rs.close()]);
});
beforeEach(() => {
  as.reset();
  rs.reset();
});
afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.close()));
});

function provider(extra: Record<string, unknown> = {}): TokenProvider {
  const made = clientCredentials({
    tokenEndpoint: as.tokenEndpoint, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, maxRetries: 0, dpop: true, ...extra,
  });
  providers.push(made);
  return made;
}

async function rejection(promise: Promise<unknown>): Promise<TokenRequestError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(TokenRequestError);
  return error as TokenRequestError;
}

describe('RFC 9449 section 9: each request in flight retries with the nonce its own answer brought', () => {
  it('three requests sent together without a nonce all succeed after one retry each', async () => {
    rs.settings.requireNonce = true;
    const billing = provider();
    await billing.getToken();
    const answers = await Promise.all([1, 2, 3].map((n) => billing.fetch(`${rs.url}/item/${n}`)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    await Promise.all(answers.map((answer) => answer.arrayBuffer()));
    expect(rs.requests.filter((request) => request.status === 401)).toHaveLength(3);
    expect(rs.requests.filter((request) => request.status === 200).every((request) => request.proof?.claims.nonce === rs.nonce)).toBe(true);
  });
});

describe('RFC 6749 section 5.1 and RFC 9449 section 5: a token response without token_type is not a DPoP-bound token', () => {
  it('is refused with ERR_TOKEN_NOT_BOUND when DPoP was asked for', async () => {
    as.settings.omitTokenType = true;
    as.settings.bearer = true;
    const error = await rejection(provider().getToken());
    expect(error.code).toBe('ERR_TOKEN_NOT_BOUND');
    expect(error.message).toMatch(/issued a Bearer token although a DPoP proof was sent/);
  });

  it('is taken as Bearer with allowBearerDowngrade, and presented as Bearer', async () => {
    as.settings.omitTokenType = true;
    as.settings.bearer = true;
    const billing = provider({ dpop: { allowBearerDowngrade: true } });
    expect((await billing.getTokenSet()).tokenType).toBe('Bearer');
  });

  it('without DPoP, a missing token_type is Bearer, as before', async () => {
    as.settings.omitTokenType = true;
    const plain = provider({ dpop: undefined });
    expect((await plain.getTokenSet()).tokenType).toBe('Bearer');
  });
});

describe('shared caches: what one provider may take, another may not', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

  it('a Bearer token taken with allowBearerDowngrade is never handed to a provider of the same key without it', async () => {
    const cache: TokenCache = new MemoryTokenCache();
    as.settings.bearer = true;
    const lenient = provider({ cache, dpop: { key, allowBearerDowngrade: true } });
    expect((await lenient.getTokenSet()).tokenType).toBe('Bearer');
    const strict = provider({ cache, dpop: { key }, failureCooldownDuration: 0 });
    const error = await rejection(strict.getToken());
    expect(error.code).toBe('ERR_TOKEN_NOT_BOUND');
    expect(as.requests).toHaveLength(2);
  });

});

describeRedis('a shared redisTokenCache: a "not bound" failure keeps its code for the waiting provider (REDIS_URL)', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

  it('is not retryable for the second provider either, and costs no second token request', async () => {
    const cache = redisTokenCache({ url: REDIS_URL, keyPrefix: `express-m2m-test:dpop-edge:${process.pid}:${randomUUID()}:` });
    try {
      as.settings.bearer = true;
      const first = provider({ cache, dpop: { key }, failureCooldownDuration: 60_000 });
      expect((await rejection(first.getToken())).code).toBe('ERR_TOKEN_NOT_BOUND');
      const second = provider({ cache, dpop: { key }, failureCooldownDuration: 60_000 });
      const shared = await rejection(second.getToken());
      expect(shared.message).toMatch(/failed for another process/);
      expect(shared.code).toBe('ERR_TOKEN_NOT_BOUND');
      expect(shared.retryable).toBe(false);
      expect(as.requests).toHaveLength(1);
    } finally {
      await cache.close();
    }
  });
});

describe('RFC 9449 section 4.2: htu is the URL without query, fragment or credentials', () => {
  it('drops user and password as well as the query and the fragment', () => {
    expect(proofUrl('https://user:secret@api.example:443/a/b?x=1#f')).toBe('https://api.example/a/b');
    expect(proofUrl('https://api.example/a/b')).toBe('https://api.example/a/b');
  });
});
