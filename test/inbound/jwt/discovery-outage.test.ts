/**
 * Discovery outages when `issuerBaseURL` is only used to learn the issuer (static key, no
 * `issuer`): operators get one `verification.discovery_failed` per failed fetch, not one per
 * request, and `Retry-After` is the true time until discovery is tried again.
 */
import { createVerifier, KeySourceUnavailableError, type VerifierEvent } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { settle } from './support.js';

const AUD = 'https://api.example';
let issuer: LocalIssuer;

beforeAll(async () => {
  issuer = await createLocalIssuer();
});
afterAll(async () => {
  await issuer.close();
});

describe('verification.discovery_failed: one event per failed discovery fetch (A7, C4)', () => {
  test('50 requests during a discovery outage -> 1 event, 503 with Retry-After = the time until discovery is tried again (1 s after a first failure)', async () => {
    let clock = Date.now();
    const events: VerifierEvent[] = [];
    const verifier = createVerifier({
      issuerBaseURL: issuer.url,
      audience: AUD,
      publicKey: issuer.publicJwks(),
      now: () => clock,
      onEvent: (event) => events.push(event),
    });
    issuer.setFault('discovery', { status: 500 });
    issuer.resetCounts();
    try {
      const token = await issuer.sign({ aud: AUD });
      const results = await Promise.all(Array.from({ length: 25 }, () => settle(() => verifier.verify(token))));
      for (let n = 0; n < 25; n += 1) results.push(await settle(() => verifier.verify(token)));
      for (const result of results) {
        expect(result.ok).toBe(false);
        const error = (result as { error: KeySourceUnavailableError }).error;
        expect(error).toBeInstanceOf(KeySourceUnavailableError);
        expect(error.headers['Retry-After']).toBe('1');
      }
      const fetches = issuer.counts.discovery;
      expect(fetches).toBeGreaterThanOrEqual(1);
      expect(events.filter((event) => event.type === 'verification.discovery_failed')).toHaveLength(1);

      // After the cooldown, the next request fetches again: one more event.
      clock += 5_000;
      await settle(() => verifier.verify(token));
      expect(issuer.counts.discovery).toBeGreaterThan(fetches);
      expect(events.filter((event) => event.type === 'verification.discovery_failed')).toHaveLength(2);
    } finally {
      issuer.clearFaults();
      verifier.close();
    }
  });
});

describe('discovery requests are bounded by jwks.timeoutDuration, like JWKS requests', () => {
  test('a hanging discovery endpoint fails after jwks.timeoutDuration with a 503', async () => {
    const events: VerifierEvent[] = [];
    const verifier = createVerifier({
      issuerBaseURL: issuer.url,
      audience: AUD,
      jwks: { timeoutDuration: 150 },
      onEvent: (event) => events.push(event),
    });
    issuer.setFault('discovery', { hang: true });
    try {
      const token = await issuer.sign({ aud: AUD });
      const result = await settle(() => verifier.verify(token));
      expect((result as { error: unknown }).error).toBeInstanceOf(KeySourceUnavailableError);
      const failed = events.find((event) => event.type === 'verification.discovery_failed') as { error: Error } | undefined;
      expect(failed?.error.message).toMatch(/did not answer within 150 ms/);
    } finally {
      issuer.clearFaults();
      verifier.close();
    }
  });
});
