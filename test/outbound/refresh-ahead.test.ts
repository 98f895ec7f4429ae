/**
 * Refresh ahead of expiry (fake clock shared with the issuer): callers never get a token within the
 * expiry margin, refreshes happen in the background at a jittered point of the token's life, and
 * while the endpoint is down the cached token keeps being served.
 */
import { decodeJwt } from 'jose';
import { clientCredentials } from 'express-m2m';
import type { OutboundEvent, TokenProvider } from 'express-m2m';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';

const AUDIENCE = 'https://billing.example.test';
const MARGIN = 60_000;
let clock = Date.now();
const now = () => clock;
let issuer: LocalIssuer;
let clientId: string;
let clientSecret: string;
const providers: TokenProvider[] = [];

beforeAll(async () => {
  issuer = await createLocalIssuer({ now, tokenLifetime: 3600 });
  ({ clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] }) as { clientId: string; clientSecret: string });
});
afterAll(async () => {
  await Promise.all(providers.map((p) => p.close()));
  await issuer.close();
});
beforeEach(() => {
  issuer.clearFaults();
  issuer.resetCounts();
});

/** A provider whose background refreshes the test can wait for. */
function observed(options: Partial<Parameters<typeof clientCredentials>[0]> = {}) {
  const events: OutboundEvent[] = [];
  let pending = 0;
  let wake: (() => void) | undefined;
  const provider = clientCredentials({
    tokenEndpoint: issuer.tokenEndpoint,
    clientId,
    clientSecret,
    audience: AUDIENCE,
    now,
    ...options,
    onEvent: (event) => {
      events.push(event);
      if (event.type === 'token.refresh_started') pending += 1;
      if ((event.type === 'token.refreshed' && event.background) || (event.type === 'token.failed' && event.background)) {
        pending -= 1;
        wake?.();
      }
    },
  });
  providers.push(provider);
  const settled = async () => {
    while (pending > 0) await new Promise<void>((resolve) => { wake = resolve; });
  };
  return { provider, events, settled };
}

describe('refresh ahead: no caller ever receives a token within the margin of its expiry', () => {
  it('over 5 hours of calls every 7 s, every token has > 60 s left, and only the first call waited', async () => {
    const { provider, events, settled } = observed();
    for (let step = 0; step < (5 * 3600) / 7; step += 1) {
      const token = await provider.getToken();
      const exp = (decodeJwt(token).exp as number) * 1000;
      expect(exp - clock).toBeGreaterThan(MARGIN);
      await settled();
      clock += 7000;
    }
    const waited = events.filter((e) => e.type === 'token.fetched');
    const background = events.filter((e) => e.type === 'token.refreshed' && e.background);
    expect(waited).toHaveLength(1); // the cold start; every later token came in the background
    expect(background.length).toBe(issuer.counts.token - 1);
    // one token per 75-90 % of 59 usable minutes: 5 h needs 6 or 7 tokens, not one per call
    expect(issuer.counts.token).toBeGreaterThanOrEqual(6);
    expect(issuer.counts.token).toBeLessThanOrEqual(8);
  });

  it('starts the refresh between 75 % and 90 % of the usable life (jittered per provider)', async () => {
    const starts: number[] = [];
    const start = clock;
    const all = Array.from({ length: 10 }, () => observed());
    await Promise.all(all.map(({ provider }) => provider.getToken()));
    const usable = 3600_000 - MARGIN;
    for (let minute = 0; minute < 60; minute += 1) {
      clock = start + minute * 60_000;
      for (const [index, { provider, events, settled }] of all.entries()) {
        await provider.getToken();
        await settled();
        if (starts[index] === undefined && events.some((e) => e.type === 'token.refresh_started')) starts[index] = clock - start;
      }
    }
    expect(starts).toHaveLength(10);
    for (const at of starts) {
      expect(at).toBeGreaterThanOrEqual(0.75 * usable);
      expect(at).toBeLessThanOrEqual(0.9 * usable + 60_000);
    }
    expect(new Set(starts).size).toBeGreaterThan(1); // replicas do not refresh in lockstep
  });
});

describe('callers never wait on a refresh, and an outage while the token is valid is invisible', () => {
  it('serves the cached token while the endpoint hangs, then fails over to stale serving with an event', async () => {
    const { provider, events, settled } = observed({ timeoutDuration: 100, maxRetries: 0, refreshWindow: [0.5, 0.5] });
    const first = await provider.getToken();
    issuer.setFault('token', { hang: true });
    clock += 0.5 * (3600_000 - MARGIN); // the refresh point
    // the endpoint never answers, yet callers get the cached token at once
    const during = await Promise.all(Array.from({ length: 50 }, () => provider.getToken()));
    expect(new Set(during)).toEqual(new Set([first]));
    await settled();
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['token.refresh_started', 'token.failed', 'token.served_stale']));
    const stale = events.find((e) => e.type === 'token.served_stale');
    expect(stale).toMatchObject({ error: { code: 'ERR_TOKEN_TIMEOUT' } });

    // the endpoint is down (connection dropped) for the rest of the token's usable life: still served
    issuer.setFault('token', { destroy: true });
    for (let t = 0; t < 20; t += 1) {
      clock += 60_000;
      expect(await provider.getToken()).toBe(first);
      await settled();
    }
    // no hammering during the outage: one attempt per cooldown, not one per call
    expect(issuer.counts.token).toBeLessThan(12);

    // past the margin it is never served; the error is reported instead
    clock = (decodeJwt(first).exp as number) * 1000 - MARGIN;
    await expect(provider.getToken()).rejects.toMatchObject({ name: 'TokenRequestError' });

    issuer.clearFaults();
    clock += 600_000; // after the cooldown a new token comes
    const next = await provider.getToken();
    expect(next).not.toBe(first);
  });
});

describe('getToken({ forceRefresh: true }) never returns the token it asked to replace', () => {
  it('joining a background refresh that fails -> an error, not the refused token', async () => {
    const { provider } = observed({ maxRetries: 0, sleep: async () => undefined });
    const first = await provider.getToken();
    clock += 0.95 * (3600_000 - MARGIN); // past the refresh point, still usable
    issuer.setFault('token', { status: 500 });
    expect(await provider.getToken()).toBe(first); // starts the background refresh
    const forced = await provider.getToken({ forceRefresh: true }).then((token) => token, (error: unknown) => error);
    expect(forced).not.toBe(first);
    expect(forced).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT_FAILED', status: 500 });
    expect(await provider.getToken()).toBe(first); // plain callers keep the still-valid token
    clock += 3600_000; // let later tests start from a fresh token
  });

  it('joining a background refresh that succeeds -> the new token', async () => {
    const { provider } = observed();
    const first = await provider.getToken();
    clock += 0.95 * (3600_000 - MARGIN);
    expect(await provider.getToken()).toBe(first);
    const forced = await provider.getToken({ forceRefresh: true });
    expect(forced).not.toBe(first);
    clock += 3600_000;
  });
});
