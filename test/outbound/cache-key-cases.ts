/**
 * The cache key of client-credentials tokens, component by component (README: "caches one token
 * per (token endpoint, client, audience, scope, resource)"; `extraParams` are "part of the cache
 * key"): two providers share ONE cache instance, and a token is shared exactly when they ask the
 * same authorization server for the same thing. Run against a `MemoryTokenCache`
 * (test/outbound/cache-key.test.ts) and a `redisTokenCache` (test/caches/redis-cache-key.test.ts).
 *
 * Which token a provider got is read from the token itself (its `iss`, `client_id`, `aud`,
 * `scope`) and from the issuers' request counters, so a key that left a component out (two
 * clients, tenants or audiences handed each other's tokens) fails here.
 */
import { decodeJwt } from 'jose';
import { clientCredentials } from 'express-m2m';
import type { ClientCredentialsOptions, TokenProvider } from 'express-m2m';
import type { TokenCache } from 'express-m2m/extend';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';

const BILLING = 'https://billing.example.test';
const LEDGER = 'https://ledger.example.test';
const RESOURCE_1 = 'https://resource-one.example.test';
const RESOURCE_2 = 'https://resource-two.example.test';
const AUDIENCES = [BILLING, LEDGER, RESOURCE_1, RESOURCE_2];
const SCOPES = ['read', 'write'];
/** Registered with the same id and secret at both issuers (the same client at two tenants). */
const SHARED = { clientId: 'svc-shared', clientSecret: 'svc-shared-secret-0123456789' };
/** Registered at issuer A only. */
const OTHER = { clientId: 'svc-other', clientSecret: 'svc-other-secret-0123456789' };

/** A cache for one test, and how to remove what it stored. */
export interface CacheUnderTest {
  cache: TokenCache;
  cleanup?: () => Promise<void>;
}

/** Registers the cache-key describes for caches made by `makeCache` (one per test). */
export function describeCacheKey(makeCache: () => CacheUnderTest): void {
  let issuerA: LocalIssuer;
  let issuerB: LocalIssuer;
  let shared: CacheUnderTest;
  const providers: TokenProvider[] = [];

  beforeAll(async () => {
    const clients = [{ ...SHARED, audiences: AUDIENCES, scopes: SCOPES }];
    issuerA = await createLocalIssuer({ clients: [...clients, { ...OTHER, audiences: AUDIENCES, scopes: SCOPES }] });
    issuerB = await createLocalIssuer({ clients });
  });
  afterAll(async () => {
    await Promise.all(providers.map((provider) => provider.close()));
    await issuerA.close();
    await issuerB.close();
  });
  beforeEach(() => {
    for (const issuer of [issuerA, issuerB]) {
      issuer.clearFaults();
      issuer.resetCounts();
    }
    shared = makeCache();
  });
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((provider) => provider.close()));
    await shared.cleanup?.();
  });

  /** A provider on the test's shared cache: issuer A, the shared client, audience BILLING unless overridden. */
  function provider(options: Partial<ClientCredentialsOptions> = {}): TokenProvider {
    const created = clientCredentials({
      tokenEndpoint: issuerA.tokenEndpoint,
      ...SHARED,
      audience: BILLING,
      ...options,
      cache: shared.cache,
    });
    providers.push(created);
    return created;
  }

  function claims(token: string): Record<string, unknown> {
    return decodeJwt(token) as Record<string, unknown>;
  }

  /** The first provider gets its token, then the second: both tokens. */
  async function inTurn(first: TokenProvider, second: TokenProvider): Promise<[string, string]> {
    const a = await first.getToken();
    const b = await second.getToken();
    return [a, b];
  }

  describe('token endpoint: the same client at another authorization server gets that server\'s token', () => {
    it('issuer A and issuer B, same client id, secret and audience -> one request each, each its own issuer\'s token', async () => {
      const [a, b] = await inTurn(provider(), provider({ tokenEndpoint: issuerB.tokenEndpoint }));
      expect(claims(a).iss).toBe(issuerA.issuer);
      expect(claims(b).iss).toBe(issuerB.issuer);
      expect(issuerA.counts.token).toBe(1);
      expect(issuerB.counts.token).toBe(1);
    });

    it('tokenEndpoint and issuerBaseURL discovery of another issuer are different endpoints too', async () => {
      const [a, b] = await inTurn(provider(), provider({ tokenEndpoint: undefined, issuerBaseURL: issuerB.url }));
      expect(claims(a).iss).toBe(issuerA.issuer);
      expect(claims(b).iss).toBe(issuerB.issuer);
      expect(issuerB.counts.token).toBe(1);
    });
  });

  describe('client id: two clients of one authorization server never get each other\'s token', () => {
    it('same endpoint and audience, another client -> a second request, a token issued to that client', async () => {
      const [a, b] = await inTurn(provider(), provider(OTHER));
      expect(claims(a)).toMatchObject({ client_id: SHARED.clientId, sub: `${SHARED.clientId}@clients` });
      expect(claims(b)).toMatchObject({ client_id: OTHER.clientId, sub: `${OTHER.clientId}@clients` });
      expect(issuerA.counts.token).toBe(2);
    });
  });

  describe('audience: a token for one API is not handed out for another', () => {
    it('another audience -> a second request, a token for that audience', async () => {
      const [a, b] = await inTurn(provider(), provider({ audience: LEDGER }));
      expect(claims(a).aud).toBe(BILLING);
      expect(claims(b).aud).toBe(LEDGER);
      expect(issuerA.counts.token).toBe(2);
    });
  });

  describe('scope: the same scopes in any order share a token; other scopes do not', () => {
    it('["read", "write"] and "write read" -> one request, the same token', async () => {
      const [a, b] = await inTurn(provider({ scope: ['read', 'write'] }), provider({ scope: 'write read' }));
      expect(b).toBe(a);
      expect(issuerA.counts.token).toBe(1);
    });

    it('"read write" and "read" -> two requests, each token with its own scope', async () => {
      const [a, b] = await inTurn(provider({ scope: 'read write' }), provider({ scope: 'read' }));
      expect(claims(a).scope).toBe('read write');
      expect(claims(b).scope).toBe('read');
      expect(issuerA.counts.token).toBe(2);
    });
  });

  describe('resource (RFC 8707): the same resources in any order share a token; other resources do not', () => {
    it('[R1, R2] and [R2, R1] -> one request, the same token', async () => {
      const [a, b] = await inTurn(
        provider({ audience: undefined, resource: [RESOURCE_1, RESOURCE_2] }),
        provider({ audience: undefined, resource: [RESOURCE_2, RESOURCE_1] }),
      );
      expect(b).toBe(a);
      expect(issuerA.counts.token).toBe(1);
    });

    it('R1 and R2 -> two requests, each token for its own resource', async () => {
      const [a, b] = await inTurn(provider({ audience: undefined, resource: RESOURCE_1 }), provider({ audience: undefined, resource: RESOURCE_2 }));
      expect(claims(a).aud).toBe(RESOURCE_1);
      expect(claims(b).aud).toBe(RESOURCE_2);
      expect(issuerA.counts.token).toBe(2);
    });

    it('no resource and R1 (same audience) -> two requests', async () => {
      const [a, b] = await inTurn(provider(), provider({ resource: RESOURCE_1 }));
      expect(claims(a).aud).toBe(BILLING);
      expect(claims(b).aud).toEqual([BILLING, RESOURCE_1]);
      expect(issuerA.counts.token).toBe(2);
    });
  });

  describe('extraParams are part of the key: other values do not share a token, the same entries in another order do', () => {
    // The local issuer ignores extra parameters, so its tokens do not say which were sent: the
    // recorded requests do.
    const sent = (issuer: LocalIssuer) => issuer.tokenRequests.map((request) => request.params.organization);

    it('organization org_1 and org_2 -> two requests, one with each value, two tokens', async () => {
      const [a, b] = await inTurn(provider({ extraParams: { organization: 'org_1' } }), provider({ extraParams: { organization: 'org_2' } }));
      expect(b).not.toBe(a);
      expect(issuerA.counts.token).toBe(2);
      expect(sent(issuerA)).toEqual(['org_1', 'org_2']);
    });

    it('no extraParams and organization org_1 -> two requests', async () => {
      const [a, b] = await inTurn(provider(), provider({ extraParams: { organization: 'org_1' } }));
      expect(b).not.toBe(a);
      expect(issuerA.counts.token).toBe(2);
      expect(sent(issuerA)).toEqual([undefined, 'org_1']);
    });

    it('{ organization, tenant } and { tenant, organization } with the same values -> one request, the same token', async () => {
      const [a, b] = await inTurn(
        provider({ extraParams: { organization: 'org_1', tenant: 't_1' } }),
        provider({ extraParams: { tenant: 't_1', organization: 'org_1' } }),
      );
      expect(b).toBe(a);
      expect(issuerA.counts.token).toBe(1);
    });
  });

  describe('the same request from two providers shares one token through the cache (the control)', () => {
    it('identical options -> one request, the same token', async () => {
      const options = { scope: ['read'], resource: [RESOURCE_1], extraParams: { organization: 'org_1' } };
      const [a, b] = await inTurn(provider(options), provider(options));
      expect(b).toBe(a);
      expect(issuerA.counts.token).toBe(1);
    });
  });
}
