/**
 * A failover in the middle of a run, for the Cluster and Sentinel tests: `replicas` providers
 * (each with its own cache and connection, so they share only through Redis) call getToken() in a
 * loop every 20 ms with short tokens (so they refresh during the outage), the master holding the
 * token key is killed, a new replica starts during the outage, and the run goes on until the
 * topology has healed and every provider that fell back to memory is back on Redis, then one more
 * token lifetime. What it counts is what the tests bound and docs/redis.md reports.
 */
import { clientCredentials } from 'express-m2m';
import type { TokenProvider } from 'express-m2m';
import type { TokenCache } from 'express-m2m/extend';
import type { LocalIssuer } from 'express-m2m/testing';
import { waitFor } from './redis-topology.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface FailoverRunOptions {
  issuer: LocalIssuer;
  clientId: string;
  clientSecret: string;
  audience: string;
  /** A new cache on its own connection, and how to close both. */
  cache: () => { cache: TokenCache; close: () => Promise<void> };
  /** Providers running before the failover (one more starts during it). */
  replicas: number;
  /** Kills the master that holds the token key. */
  kill: () => Promise<void>;
  /** Resolves once the topology has a working master again. */
  healed: () => Promise<void>;
  cacheRetryDuration: number;
  /** Token lifetime the issuer gives, in seconds (to know how long "one more lifetime" is). */
  tokenLifetime: number;
}

export interface FailoverRunResult {
  /** getToken() calls made, and those that failed (with the error's code or message). */
  calls: number;
  failures: string[];
  /** Token requests the issuer received from the kill to the end of the run. */
  tokenRequests: number;
  /** From the kill to a working master again (ms). */
  outage: number;
  /** From the kill to the end of the run (ms). */
  duration: number;
  /** How long the replica started during the outage waited for its first token (ms). */
  newcomerWait: number;
  /** `cache.fallback` and `cache.recovered` events, over all providers. */
  fallbacks: number;
  recoveries: number;
}

export async function runThroughFailover(options: FailoverRunOptions): Promise<FailoverRunResult> {
  const { issuer, clientId, clientSecret, audience } = options;
  const closers: (() => Promise<void>)[] = [];
  const events: string[][] = [];
  const start = () => {
    const { cache, close } = options.cache();
    const own: string[] = [];
    const provider = clientCredentials({
      tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience, cache,
      cacheRetryDuration: options.cacheRetryDuration,
      onEvent: (event) => own.push(event.type),
    });
    events.push(own);
    closers.push(() => provider.close(), close);
    return provider;
  };
  let stop = false;
  let calls = 0;
  const failures: string[] = [];
  const loop = async (provider: TokenProvider) => {
    while (!stop) {
      try {
        await provider.getToken();
        calls += 1;
      } catch (error) {
        failures.push((error as { code?: string }).code ?? String(error));
      }
      await sleep(20);
    }
  };
  try {
    const providers = Array.from({ length: options.replicas }, start);
    await Promise.all(providers.map((provider) => provider.getToken()));
    const loops = providers.map(loop);
    await sleep(300);
    const before = issuer.counts.token;
    const killedAt = Date.now();
    await options.kill();
    const newcomer = start();
    const newcomerStart = Date.now();
    await newcomer.getToken();
    const newcomerWait = Date.now() - newcomerStart;
    loops.push(loop(newcomer));
    await options.healed();
    const outage = Date.now() - killedAt;
    const count = (type: string) => events.reduce((sum, own) => sum + own.filter((t) => t === type).length, 0);
    await waitFor('every provider back on Redis', async () => events.every((own) => own.filter((t) => t === 'cache.fallback').length === own.filter((t) => t === 'cache.recovered').length), 20_000);
    await sleep(options.tokenLifetime * 1000);
    stop = true;
    await Promise.all(loops);
    return {
      calls, failures, tokenRequests: issuer.counts.token - before, outage, duration: Date.now() - killedAt, newcomerWait,
      fallbacks: count('cache.fallback'), recoveries: count('cache.recovered'),
    };
  } finally {
    stop = true;
    await Promise.all(closers.map((close) => close().catch(() => undefined)));
  }
}
