/**
 * README: "Refreshes are driven by calls (no timers): an idle service does not burn metered
 * tokens". A provider holds a token; then, with no call at all, its clock (and the issuer's) moves
 * far past the refresh point and past expiry, every fake timer is run (Jest fakes setTimeout and
 * setInterval from before the first call, so a timer the provider set would fire), and a little
 * real time passes too. The issuer's token counter must not move until a call is made.
 */
import { setTimeout as realDelay } from 'node:timers/promises';
import { clientCredentials } from 'express-m2m';
import type { OutboundEvent, TokenProvider } from 'express-m2m';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';

const AUDIENCE = 'https://billing.example.test';
const HOUR = 3_600_000;
let clock = Date.now();
const now = () => clock;
let issuer: LocalIssuer;
let clientId: string;
let clientSecret: string;
let provider: TokenProvider;
let events: OutboundEvent[];

beforeAll(async () => {
  issuer = await createLocalIssuer({ now, tokenLifetime: 3600 });
  ({ clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] }) as { clientId: string; clientSecret: string });
});
afterAll(async () => {
  await issuer.close();
});
beforeEach(() => {
  issuer.resetCounts();
  events = [];
  // only timers are faked: the clock is the injected one, sockets and setImmediate stay real
  jest.useFakeTimers({
    doNotFake: [
      'Date', 'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'requestAnimationFrame', 'cancelAnimationFrame',
      'requestIdleCallback', 'cancelIdleCallback', 'setImmediate', 'clearImmediate',
    ],
  });
  provider = clientCredentials({
    tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, now, onEvent: (event) => events.push(event),
  });
});
afterEach(async () => {
  jest.useRealTimers();
  await provider.close();
});

/** An idle stretch: the injected clock jumps, every pending fake timer runs, real time passes a little. */
async function idle(duration: number): Promise<void> {
  clock += duration;
  await jest.advanceTimersByTimeAsync(duration);
  await jest.runAllTimersAsync();
  await realDelay(100); // node's own timers, not faked: a request started by a timer would have arrived
}

describe('refreshes are driven by calls, no timers: an idle service does not spend metered tokens (README)', () => {
  it('idle far past the refresh point and past expiry: no token request until a call, which makes exactly one', async () => {
    const first = await provider.getToken();
    expect(issuer.counts.token).toBe(1);
    expect(jest.getTimerCount()).toBe(0); // the provider left no timer behind (the caller's deadline was cleared)

    await idle(0.95 * HOUR); // past the refresh point (75-90 % of the usable life), before expiry
    await idle(2 * HOUR); // and past expiry
    expect(issuer.counts.token).toBe(1);
    expect(events.map((event) => event.type)).toEqual(['token.fetched']);

    const next = await provider.getToken(); // the first call after the idle stretch waits for a new token
    expect(next).not.toBe(first);
    expect(issuer.counts.token).toBe(2);
    expect(events.map((event) => event.type)).toEqual(['token.fetched', 'token.fetched']);
  });

  it('idle just past the refresh point: no request until a call; the call gets the current token and starts one refresh', async () => {
    const first = await provider.getToken();
    await idle(0.95 * (HOUR - 60_000)); // past any refresh point of the usable life, the token still usable
    expect(issuer.counts.token).toBe(1);
    expect(events.map((event) => event.type)).toEqual(['token.fetched']);

    const refreshed = new Promise<void>((resolve) => {
      const poll = () => (events.some((event) => event.type === 'token.refreshed') ? resolve() : setImmediate(poll));
      poll();
    });
    expect(await provider.getToken()).toBe(first); // no waiting: the refresh runs behind the call
    await refreshed;
    expect(issuer.counts.token).toBe(2);
    expect(events.map((event) => event.type)).toEqual(['token.fetched', 'token.refresh_started', 'token.refreshed']);
    expect(await provider.getToken()).not.toBe(first);
    expect(issuer.counts.token).toBe(2);
  });
});
