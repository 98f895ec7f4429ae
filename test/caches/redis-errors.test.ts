/**
 * Redis refusals never carry a token: ioredis attaches the command's arguments (key, value JSON
 * with the access token, ...) to its errors; the store rejects with its own error naming only the
 * command and Redis's error, so `cache.fallback` events and logs never see a token.
 * Uses a real Redis ACL user that may read every key and write only lock keys (NOPERM on SET of a token).
 */
import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { clientCredentials } from 'express-m2m';
import type { OutboundEvent } from 'express-m2m';
import { redisTokenCache } from 'express-m2m/redis';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';
import { describeRedis, REDIS_URL } from './redis-support.js';

const AUDIENCE = 'https://billing.example.test';
const USER = `express-m2m-test-readonly-${process.pid}-${randomUUID()}`;
const PASSWORD = randomUUID();
const PREFIX = `express-m2m-test:${process.pid}:${randomUUID()}:`;
let admin: Redis;
let issuer: LocalIssuer;
const closers: (() => Promise<void>)[] = [];

function restrictedUrl(): string {
  const url = new URL(REDIS_URL);
  url.username = USER;
  url.password = PASSWORD;
  return url.toString();
}

describeRedis('a Redis refusal (NOPERM) never puts a token in an error or an event', () => {
  beforeAll(async () => {
    admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    // may read every key, write only `...:lock` keys: storing a token is refused with NOPERM
    await admin.call('ACL', 'SETUSER', USER, 'reset', 'on', `>${PASSWORD}`, '+@all', `%R~*`, `%RW~${PREFIX}*:lock`);
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

  it('cache.set rejects with the command name and Redis\'s error only', async () => {
    const cache = redisTokenCache({ url: restrictedUrl(), keyPrefix: PREFIX });
    closers.push(() => cache.close());
    const token = `secret-token-${randomUUID()}`;
    const error = await cache.set('k', { accessToken: token, tokenType: 'Bearer', obtainedAt: Date.now(), expiresAt: Date.now() + 600_000 }, 60_000)
      .then(() => undefined, (caught: unknown) => caught as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^Redis SET failed: .*NOPERM/);
    expect(inspect(error, { depth: 10, showHidden: true })).not.toContain(token);
    expect(JSON.stringify(error)).not.toContain(token);
    expect((error as Error & { command?: unknown }).command).toBeUndefined();
    expect((error as Error).cause).toBeUndefined();
  });

  it('the provider\'s cache.fallback event carries no token', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] }) as { clientId: string; clientSecret: string };
    const cache = redisTokenCache({ url: restrictedUrl(), keyPrefix: PREFIX });
    closers.push(() => cache.close());
    const events: OutboundEvent[] = [];
    const provider = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, cache, onEvent: (e) => events.push(e) });
    closers.push(() => provider.close());
    const token = await provider.getToken();
    const fallback = events.find((e) => e.type === 'cache.fallback');
    expect(fallback).toBeDefined();
    expect((fallback as { error: Error }).error.message).toMatch(/NOPERM/);
    for (const event of events) {
      expect(JSON.stringify(event)).not.toContain(token);
      expect(inspect(event, { depth: 10, showHidden: true })).not.toContain(token);
    }
  });
});
