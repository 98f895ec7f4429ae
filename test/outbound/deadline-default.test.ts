/**
 * README: every caller's wait is bounded by `deadlineDuration`, "by default the worst case of a
 * request with its retries, timeoutDuration x (maxRetries + 1) + retryMaxDelay x maxRetries + 1 s
 * = 41 s" (+ 2 x timeoutDuration with discovery: 61 s). Checked by behaviour: a token endpoint that
 * never answers, and the moment the caller gets ERR_TOKEN_TIMEOUT.
 *
 * How time is controlled: the deadline is a real `setTimeout` (withDeadline), so Jest's fake timers
 * fake `setTimeout`/`clearTimeout` and nothing else. The sockets, the local issuer and the
 * per-request timeout (`AbortSignal.timeout`, node's internal timers, not faked) run on real time;
 * the test moves fake time in two steps around the documented value (100 ms before, 100 ms after)
 * long before any real per-request timeout (10 s or more here) could fire, so no retry happens
 * and the only thing that can end the caller's wait is the deadline.
 */
import { clientCredentials, TokenRequestError } from 'express-m2m';
import type { ClientCredentialsOptions, TokenProvider } from 'express-m2m';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';

const AUDIENCE = 'https://billing.example.test';
let issuer: LocalIssuer;
let clientId: string;
let clientSecret: string;
const providers: TokenProvider[] = [];

beforeAll(async () => {
  issuer = await createLocalIssuer();
  ({ clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] }) as { clientId: string; clientSecret: string });
});
afterAll(async () => {
  await issuer.close();
});
beforeEach(() => {
  issuer.clearFaults();
  issuer.resetCounts();
  issuer.setFault('token', { hang: true });
  elapsed = 0;
  jest.useFakeTimers({
    doNotFake: [
      'Date', 'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'requestAnimationFrame', 'cancelAnimationFrame',
      'requestIdleCallback', 'cancelIdleCallback', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval',
    ],
  });
});
afterEach(async () => {
  jest.useRealTimers();
  await Promise.all(providers.splice(0).map((provider) => provider.close())); // aborts the hanging requests
});

/** Waits (turns of the event loop, no timer) until `condition` holds; gives up after 10 s of real time. */
async function until(condition: () => boolean): Promise<void> {
  const giveUpAt = Date.now() + 10_000;
  while (!condition() && Date.now() < giveUpAt) await new Promise((resolve) => setImmediate(resolve));
  expect(condition()).toBe(true);
}

/** Starts a getToken() against the hanging endpoint and lets its request reach the endpoint. */
async function waitingCaller(options: Partial<ClientCredentialsOptions>) {
  const provider = clientCredentials({ clientId, clientSecret, audience: AUDIENCE, ...options } as ClientCredentialsOptions);
  providers.push(provider);
  let outcome: { state: 'pending' } | { state: 'resolved' } | { state: 'rejected'; error: unknown } = { state: 'pending' };
  provider.getToken().then(() => {
    outcome = { state: 'resolved' };
  }, (error: unknown) => {
    outcome = { state: 'rejected', error };
  });
  await until(() => issuer.counts.token === 1);
  return { outcome: () => outcome };
}

/** Fake time elapsed since the test's caller started waiting. */
let elapsed = 0;
/** Moves fake time to `at` ms after the caller started waiting. */
async function advanceTo(at: number): Promise<void> {
  await jest.advanceTimersByTimeAsync(at - elapsed);
  elapsed = at;
}

describe('deadlineDuration defaults to the worst case of one token request with its retries (README: 41 s with the defaults)', () => {
  it('with tokenEndpoint and the defaults: still waiting at 40.9 s, ERR_TOKEN_TIMEOUT by 41.1 s, the request goes on', async () => {
    const caller = await waitingCaller({ tokenEndpoint: issuer.tokenEndpoint });
    await advanceTo(40_900);
    expect(caller.outcome()).toEqual({ state: 'pending' });
    await advanceTo(41_100);
    expect(caller.outcome()).toEqual({ state: 'rejected', error: expect.any(TokenRequestError) });
    expect((caller.outcome() as { error: TokenRequestError }).error.code).toBe('ERR_TOKEN_TIMEOUT');
    expect(issuer.counts.token).toBe(1); // the deadline ended the wait, not a failed or retried request
  });

  it('with issuerBaseURL discovery: + 2 x timeoutDuration, so still waiting at 60.9 s, ERR_TOKEN_TIMEOUT by 61.1 s', async () => {
    const caller = await waitingCaller({ issuerBaseURL: issuer.url });
    expect(issuer.counts.discovery).toBeGreaterThanOrEqual(1); // discovery answered, the token endpoint hangs
    await advanceTo(41_100);
    expect(caller.outcome()).toEqual({ state: 'pending' });
    await advanceTo(60_900);
    expect(caller.outcome()).toEqual({ state: 'pending' });
    await advanceTo(61_100);
    expect((caller.outcome() as { error?: TokenRequestError }).error?.code).toBe('ERR_TOKEN_TIMEOUT');
    expect(issuer.counts.token).toBe(1);
  });

  it('follows the options: timeoutDuration 20 s x (maxRetries 1 + 1) + retryMaxDelay 3 s x 1 + 1 s = 44 s', async () => {
    const caller = await waitingCaller({ tokenEndpoint: issuer.tokenEndpoint, timeoutDuration: 20_000, maxRetries: 1, retryMaxDelay: 3000 });
    await advanceTo(43_900);
    expect(caller.outcome()).toEqual({ state: 'pending' });
    await advanceTo(44_100);
    expect((caller.outcome() as { error?: TokenRequestError }).error?.code).toBe('ERR_TOKEN_TIMEOUT');
  });

  it('an explicit deadlineDuration replaces the default: ERR_TOKEN_TIMEOUT by 5.1 s with deadlineDuration 5000', async () => {
    const caller = await waitingCaller({ tokenEndpoint: issuer.tokenEndpoint, deadlineDuration: 5000 });
    await advanceTo(4900);
    expect(caller.outcome()).toEqual({ state: 'pending' });
    await advanceTo(5100);
    expect((caller.outcome() as { error?: TokenRequestError }).error?.code).toBe('ERR_TOKEN_TIMEOUT');
  });
});
