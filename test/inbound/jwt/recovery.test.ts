/**
 * How fast verification recovers, against a real local issuer and a clock the test moves:
 * - an API that starts before its issuer is up answers 503 with the true time until the next
 *   attempt (1 s after a first failure, doubling), and works within about a second of the issuer
 *   coming up (not after a 30 s latch);
 * - a key the issuer has just published is accepted within the refetch interval (5 s) of the last
 *   fetch, while a storm of made-up kids still costs at most one JWKS fetch per interval.
 */
import { createVerifier, KeySourceUnavailableError, type JwtVerifier } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { settle } from './support.js';

const AUD = 'https://api.example';
let issuer: LocalIssuer;
let verifier: JwtVerifier | undefined;
let clock: number;

beforeEach(async () => {
  clock = Date.now();
  issuer = await createLocalIssuer({ now: () => clock });
});
afterEach(async () => {
  verifier?.close();
  await issuer.close();
});

describe('an API started before its issuer recovers within about a second of the issuer coming up', () => {
  test.each([
    ['discovery down (issuerBaseURL; failureCooldownDuration caps it at 5 s)', 'discovery' as const, false, ['1', '2', '4', '5']],
    ['discovery of the jwks_uri only down (issuer configured)', 'discovery' as const, true, ['1', '2', '4', '5']],
    ['the JWKS down (jwks.cooldownDuration caps it at 30 s)', 'jwks' as const, false, ['1', '2', '4', '8']],
  ])('%s: Retry-After is the time until the next attempt; then it works at once', async (_name, endpoint, withIssuer, expected) => {
    issuer.setFault(endpoint, { destroy: true });
    verifier = createVerifier({ issuerBaseURL: issuer.url, ...(withIssuer ? { issuer: issuer.issuer } : {}), audience: AUD, now: () => clock });
    const token = await issuer.accessToken({ audience: AUD });
    const retryAfters: string[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const result = await settle(() => (verifier as JwtVerifier).verify(token));
      expect(result.ok).toBe(false);
      const error = (result as { error: KeySourceUnavailableError }).error;
      expect(error).toBeInstanceOf(KeySourceUnavailableError);
      retryAfters.push(error.headers['Retry-After'] as string);
      clock += Number(error.headers['Retry-After']) * 1000;
    }
    expect(retryAfters).toEqual(expected);
    // The issuer comes up now: the next attempt is due, and succeeds.
    issuer.clearFaults();
    const result = await settle(() => (verifier as JwtVerifier).verify(token));
    expect(result.ok).toBe(true);
  });
});

describe('key rotation: a key the issuer has just published is found within the refetch interval', () => {
  test('401 right after a fetch (the interval protects the issuer), 200 five seconds later', async () => {
    verifier = createVerifier({ issuerBaseURL: issuer.url, audience: AUD, now: () => clock });
    await verifier.warmUp();
    expect(issuer.counts.jwks).toBe(1);
    clock += 1000;
    const kid = issuer.addKey('RS256');
    const token = await issuer.accessToken({ audience: AUD, signOptions: { kid } });
    // 1 s after the last fetch: not refetched yet.
    expect((await settle(() => (verifier as JwtVerifier).verify(token))).ok).toBe(false);
    expect(issuer.counts.jwks).toBe(1);
    clock += 4000; // 5 s after the last fetch
    expect((await settle(() => (verifier as JwtVerifier).verify(token))).ok).toBe(true);
    expect(issuer.counts.jwks).toBe(2);
  });

  test('1,000 made-up kids in one interval cost at most one JWKS fetch', async () => {
    verifier = createVerifier({ issuerBaseURL: issuer.url, audience: AUD, now: () => clock, verifiedTokenCache: false });
    await verifier.warmUp();
    clock += 5000;
    const before = issuer.counts.jwks;
    for (let i = 0; i < 1000; i += 1) {
      const token = await issuer.sign({ aud: AUD }, { kid: `made-up-${i}`, alg: 'RS256', key: issuer.privateKey() });
      expect((await settle(() => (verifier as JwtVerifier).verify(token))).ok).toBe(false);
      clock += 4; // 4 s in all
    }
    expect(issuer.counts.jwks - before).toBeLessThanOrEqual(1);
  });
});

describe('a wrong issuer URL is reported as what it is: the URL tried and the cause, a configuration error', () => {
  test('a path that answers 404: warmUp() and the event name the URL and say to check issuerBaseURL', async () => {
    const events: string[] = [];
    verifier = createVerifier({
      issuerBaseURL: `${issuer.url}/foo`, audience: AUD, now: () => clock,
      onEvent: (event) => { if (event.type === 'verification.discovery_failed') events.push(event.error.message); },
    });
    const error = await verifier.warmUp().then(() => undefined, (thrown: Error) => thrown);
    expect(error).toBeInstanceOf(KeySourceUnavailableError);
    expect(error?.message).toBe(`discovery of ${issuer.url}/foo failed: ${issuer.url}/.well-known/oauth-authorization-server/foo answered HTTP 404; check "issuerBaseURL" (a configuration error, not an outage)`);
    expect(events).toEqual([error?.message]);
    // A request still gets the 503 without any internal detail.
    const result = await settle(() => (verifier as JwtVerifier).verify('a.b.c'));
    expect(result.ok).toBe(false);
  });

  test('a host name that does not resolve: the DNS error, a configuration error', async () => {
    verifier = createVerifier({ issuerBaseURL: 'https://no-such-host.invalid/', audience: AUD });
    const error = await verifier.warmUp().then(() => undefined, (thrown: Error) => thrown);
    expect(error?.message).toMatch(/^discovery of https:\/\/no-such-host\.invalid\/ failed: https:\/\/no-such-host\.invalid\/\.well-known\/openid-configuration is unreachable \(getaddrinfo (ENOTFOUND|EAI_AGAIN) no-such-host\.invalid\)/);
    if (error?.message.includes('ENOTFOUND')) expect(error.message).toMatch(/check "issuerBaseURL"/);
  });

  test('an issuer that is not up yet (connection refused): the cause, and no configuration hint', async () => {
    const url = issuer.url;
    await issuer.close();
    verifier = createVerifier({ issuerBaseURL: url, audience: AUD });
    const error = await verifier.warmUp().then(() => undefined, (thrown: Error) => thrown);
    expect(error?.message).toMatch(/is unreachable \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/);
    issuer = await createLocalIssuer(); // for afterEach
  });
});
