// One outbound contender in its own process, cold: makes `CALLS` concurrent "get a token, call the
// downstream" operations once it reads "GO" on stdin, then prints "RESULT <json>".
//   CONTENDER=express-m2m|express-m2m-redis|badgateway|simple-oauth2
//   TOKEN_ENDPOINT, TOKEN_HOST, CLIENT_ID, CLIENT_SECRET, AUDIENCE, DOWNSTREAM_URL, CALLS, REDIS_URL
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { distPath } from './lib/paths.mjs';

const env = process.env;
const contender = env.CONTENDER;
const calls = Number(env.CALLS ?? 500);
const { TOKEN_ENDPOINT: tokenEndpoint, CLIENT_ID: clientId, CLIENT_SECRET: clientSecret, AUDIENCE: audience, DOWNSTREAM_URL: downstream } = env;

const bearerFetch = (token) => fetch(downstream, { headers: { authorization: `Bearer ${token}` } });

/** Returns { call(): Promise<Response>, close() } for the contender, in its idiomatic form. */
async function setup() {
  switch (contender) {
    case 'express-m2m':
    case 'express-m2m-redis': {
      const m2m = await import(pathToFileURL(distPath('index.js')).href);
      let cache;
      let redis;
      if (contender === 'express-m2m-redis') {
        const mod = await import(pathToFileURL(distPath('redis.js')).href);
        const { Redis } = await import('ioredis');
        redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: false, maxRetriesPerRequest: 1 });
        const Store = mod.RedisTokenCache ?? Object.values(mod).find((v) => typeof v === 'function' && /Cache/.test(v.name));
        if (!Store) throw new Error('express-m2m/redis: no cache class is built yet');
        cache = new Store({ client: redis });
      }
      const provider = m2m.clientCredentials({ tokenEndpoint, clientId, clientSecret, audience, ...(cache ? { cache } : {}) });
      return {
        // getToken() then the call, as the issue words it; provider.fetch() does the same internally.
        call: async () => bearerFetch(await provider.getToken()),
        close: async () => {
          await provider.close?.();
          await cache?.close?.();
          redis?.disconnect();
        },
      };
    }
    case 'badgateway': {
      const { OAuth2Client, OAuth2Fetch } = await import('@badgateway/oauth2-client');
      const client = new OAuth2Client({ tokenEndpoint, clientId, clientSecret });
      const wrapper = new OAuth2Fetch({ client, getNewToken: () => client.clientCredentials({ extraParams: { audience } }) });
      // Its documented way: getToken() (through OAuth2Fetch's stored token), then the call.
      return { call: async () => bearerFetch((await wrapper.getToken()).accessToken), close: async () => {} };
    }
    case 'simple-oauth2': {
      const { ClientCredentials } = await import('simple-oauth2');
      const url = new URL(tokenEndpoint);
      const client = new ClientCredentials({
        client: { id: clientId, secret: clientSecret },
        auth: { tokenHost: url.origin, tokenPath: url.pathname },
      });
      // Its README's pattern: keep the token, get a new one when there is none or it expired.
      let accessToken;
      return {
        call: async () => {
          if (!accessToken || accessToken.expired(60)) accessToken = await client.getToken({ audience });
          return bearerFetch(accessToken.token.access_token);
        },
        close: async () => {},
      };
    }
    default:
      throw new Error(`unknown outbound contender "${contender}"`);
  }
}

setTimeout(() => {
  console.error('outbound client: hard time limit reached');
  process.exit(2);
}, 120_000).unref();

const c = await setup();
console.log('READY');
const rl = createInterface({ input: process.stdin });
await new Promise((resolve) => rl.once('line', resolve));
const started = performance.now();
const outcomes = await Promise.allSettled(Array.from({ length: calls }, () => c.call().then(async (r) => { await r.arrayBuffer(); return r.status; })));
const ms = performance.now() - started;
const statuses = {};
const errors = [];
for (const o of outcomes) {
  const k = o.status === 'fulfilled' ? String(o.value) : 'error';
  statuses[k] = (statuses[k] ?? 0) + 1;
  if (o.status === 'rejected' && errors.length < 3) errors.push(String(o.reason?.message ?? o.reason).slice(0, 200));
}
await c.close();
console.log(`RESULT ${JSON.stringify({ ms: Math.round(ms), statuses, errors })}`);
process.exit(0);
