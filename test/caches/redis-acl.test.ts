/**
 * docs/redis.md's least-privileged ACL user works (REDIS_URL, a temporary user created and deleted
 * here): with only GET, SET, DEL, EVAL and INFO on the keys of its prefix, replicas share one token,
 * the lock and its release script, failure markers and the deletion of an entry that is not
 * believed all run without one refused command (no cache.fallback).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { clientCredentials, TokenRequestError } from 'express-m2m';
import type { OutboundEvent, TokenProvider } from 'express-m2m';
import { redisTokenCache } from 'express-m2m/redis';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';
import { aclFor, documentedAclUsers } from './redis-acl.js';
import { describeRedis, REDIS_URL } from './redis-support.js';

const AUDIENCE = 'https://billing.example.test';
const USER = `express-m2m-test-acl-${process.pid}-${randomUUID()}`;
const PASSWORD = randomUUID();
const PREFIX = `express-m2m-test:${process.pid}:${randomUUID()}:`;
let admin: Redis;
let issuer: LocalIssuer;
const closers: (() => Promise<void>)[] = [];

function userUrl(): string {
  const url = new URL(REDIS_URL);
  url.username = USER;
  url.password = PASSWORD;
  return url.toString();
}

function replicas(count: number, clientSecret: string, clientId: string, keyPrefix: string) {
  const events: OutboundEvent[] = [];
  const providers: TokenProvider[] = Array.from({ length: count }, () => {
    const cache = redisTokenCache({ url: userUrl(), keyPrefix });
    const provider = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, cache, onEvent: (e) => events.push(e) });
    closers.push(() => provider.close(), () => cache.close());
    return provider;
  });
  return { providers, events };
}

describeRedis('the ACL user of docs/redis.md: GET, SET, DEL, EVAL and INFO on its prefix are enough', () => {
  const [single] = documentedAclUsers();

  beforeAll(async () => {
    admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await admin.call('ACL', ...aclFor(single as string[], USER, PASSWORD, PREFIX));
    issuer = await createLocalIssuer();
  });
  afterAll(async () => {
    await Promise.all(closers.map((close) => close()));
    await admin.call('ACL', 'DELUSER', USER);
    const leftovers = await admin.keys(`${PREFIX}*`);
    if (leftovers.length > 0) await admin.del(...leftovers);
    admin.disconnect();
    await issuer.close();
  });

  it('the guide gives the two users, and the one-server user is restricted to its commands and keys', async () => {
    expect(documentedAclUsers()).toHaveLength(2);
    const user = new Redis(userUrl(), { maxRetriesPerRequest: 1 });
    try {
      await expect(user.keys('*')).rejects.toThrow(/NOPERM/);
      await expect(user.get('not-under-the-prefix')).rejects.toThrow(/NOPERM/);
    } finally {
      user.disconnect();
    }
  });

  it('replicas share one token, its lock and release, failure markers and the deletion of a bad entry, with no refused command', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] }) as { clientId: string; clientSecret: string };
    const shared = replicas(4, clientSecret, clientId, `${PREFIX}a:`);
    const tokens = await Promise.all(shared.providers.map((p) => p.getToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(issuer.counts.token).toBe(1);

    // an entry nobody believes: dropped (DEL) and replaced
    const [valueKey] = (await admin.keys(`${PREFIX}a:*`)).filter((key) => !key.endsWith(':lock'));
    await admin.set(valueKey as string, JSON.stringify({ accessToken: 'forged', tokenType: 'Bearer', obtainedAt: Date.now(), expiresAt: Date.now() + 600_000 }), 'PX', 600_000);
    const late = replicas(1, clientSecret, clientId, `${PREFIX}a:`);
    expect(await (late.providers[0] as TokenProvider).getToken()).not.toBe('forged');
    expect(late.events.map((e) => e.type)).toContain('cache.entry_rejected');
    expect(late.events.map((e) => e.type)).not.toContain('cache.fallback');

    // a failure shared through the marker
    issuer.resetCounts();
    const failing = replicas(4, 'wrong-secret-0123456789', clientId, `${PREFIX}b:`);
    const outcomes = await Promise.all(failing.providers.map((p) => p.getToken().then(() => 'token', (e: unknown) => (e instanceof TokenRequestError ? e.code : String(e)))));
    expect(outcomes).toEqual(['ERR_TOKEN_REJECTED', 'ERR_TOKEN_REJECTED', 'ERR_TOKEN_REJECTED', 'ERR_TOKEN_REJECTED']);
    expect(issuer.counts.token).toBe(1);

    const types = [...shared.events, ...failing.events].map((e) => e.type);
    expect(types).not.toContain('cache.fallback');
    expect(types).toContain('token.cache_hit');
  });
});
