/**
 * The verified-token cache never outlives the freshness of the keys that verified the token
 * (issue 5 "dropped when keys rotate", issue 2 "keys are refreshed ahead of their cache lifetime
 * in the background"). The invariant: the cache changes what a verification costs, never its
 * outcome. Each scenario runs with the cache on and off against the real local issuer (HTTP on
 * 127.0.0.1) with a fake clock, and both must give the same answer at every time point.
 */
import { createVerifier, InvalidTokenError, type VerifierEvent } from 'express-m2m';
import { createLocalIssuer } from 'express-m2m/testing';
import { settle } from './support.js';

const AUD = 'https://api.example';
const MINUTE = 60_000;

async function outcome(fn: () => unknown): Promise<string> {
  const result = await settle(fn);
  if (result.ok) return 'accepted';
  return result.error instanceof InvalidTokenError ? result.error.code : String(result.error);
}

/** Resolves on the key source's next completed fetch (or after `limit` ms, so a missing fetch fails the test, not hangs it). */
function nextFetch(events: VerifierEvent[], limit = 5000): Promise<boolean> {
  const start = events.length;
  return new Promise((resolve) => {
    const deadline = setTimeout(() => {
      clearInterval(poll);
      resolve(false);
    }, limit);
    const poll = setInterval(() => {
      if (events.slice(start).some((event) => event.type === 'keys.fetched' || event.type === 'keys.fetch_failed')) {
        clearTimeout(deadline);
        clearInterval(poll);
        resolve(true);
      }
    }, 5);
  });
}

describe('cached tokens never outlive the freshness of the keys that verified them (A2)', () => {
  test.each([
    ['cache on', undefined],
    ['cache off', false],
  ] as const)('key removed from the JWKS, client idle past the key set lifetime: refused (%s)', async (_name, cacheOption) => {
    const start = Date.now();
    let clock = start;
    const issuer = await createLocalIssuer({ now: () => clock, tokenLifetime: 86_400 });
    const verifier = createVerifier({
      issuer: issuer.issuer, audience: AUD, jwksUri: issuer.jwksUri, now: () => clock, verifiedTokenCache: cacheOption,
    });
    try {
      const token = await issuer.accessToken({ clientId: 'c', audience: AUD });
      const seen: string[] = [];
      const hits: number[] = [];
      seen.push(await outcome(() => verifier.verify(token)));
      hits.push(issuer.counts.jwks);
      issuer.rotateKeys({ keepPrevious: false });
      // Default JWKS lifetime 10 min, refresh-ahead from 9 min, stale window 1 h after that.
      for (const minutes of [1, 8, 11, 30, 69, 71]) {
        clock = start + minutes * MINUTE;
        seen.push(await outcome(() => verifier.verify(token)));
        hits.push(issuer.counts.jwks);
      }
      expect(seen).toEqual([
        'accepted', 'accepted', 'accepted',
        'ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_NO_MATCHING_KEY',
      ]);
      // One fetch at the start, one when the expired set is checked again at +11 min; afterwards the
      // unknown kid is checked again once per refetchInterval (5 s), so at +30, +69 and +71 min.
      expect(hits).toEqual([1, 1, 1, 2, 3, 4, 5]);
    } finally {
      verifier.close();
      await issuer.close();
    }
  });

  test.each([
    ['cache on', undefined],
    ['cache off', false],
  ] as const)('refresh-ahead runs even when every request would be a cache hit (%s)', async (_name, cacheOption) => {
    const start = Date.now();
    let clock = start;
    const issuer = await createLocalIssuer({ now: () => clock, tokenLifetime: 86_400 });
    const events: VerifierEvent[] = [];
    const verifier = createVerifier({
      issuer: issuer.issuer,
      audience: AUD,
      jwksUri: issuer.jwksUri,
      now: () => clock,
      verifiedTokenCache: cacheOption,
      onEvent: (event) => events.push(event),
    });
    try {
      const token = await issuer.accessToken({ clientId: 'c', audience: AUD });
      expect(await outcome(() => verifier.verify(token))).toBe('accepted');
      expect(await outcome(() => verifier.verify(token))).toBe('accepted');
      expect(issuer.counts.jwks).toBe(1);
      issuer.rotateKeys({ keepPrevious: false });

      // In the refresh-ahead window: still accepted at once, and a background refresh starts.
      clock = start + 9.5 * MINUTE;
      const fetched = nextFetch(events);
      expect(await outcome(() => verifier.verify(token))).toBe('accepted');
      expect(await fetched).toBe(true);
      expect(issuer.counts.jwks).toBe(2);

      // The refresh brought a key set without the token's key: refused from now on.
      expect(await outcome(() => verifier.verify(token))).toBe('ERR_JWKS_NO_MATCHING_KEY');
      expect(issuer.counts.jwks).toBe(2);
    } finally {
      verifier.close();
      await issuer.close();
    }
  });
});

describe('the first token verified after a key-set change is cached (C10)', () => {
  test('the token whose verification fetched the JWKS, and the first one after a rotation, are served from the cache next', async () => {
    let clock = Date.now();
    const issuer = await createLocalIssuer({ now: () => clock });
    const verifier = createVerifier({ issuer: issuer.issuer, audience: AUD, jwksUri: issuer.jwksUri, now: () => clock });
    try {
      const token = await issuer.accessToken({ clientId: 'c', audience: AUD });
      const first = await verifier.verify(token);
      expect(verifier.verify(token)).toBe(first);

      issuer.rotateKeys({ keepPrevious: false });
      clock += 31_000; // past the unknown-kid cooldown
      const rotated = await issuer.accessToken({ clientId: 'c', audience: AUD });
      const afterRotation = await verifier.verify(rotated); // unknown kid -> refetch -> new key set
      expect(verifier.verify(rotated)).toBe(afterRotation);
      expect(issuer.counts.jwks).toBe(2);
    } finally {
      verifier.close();
      await issuer.close();
    }
  });
});
