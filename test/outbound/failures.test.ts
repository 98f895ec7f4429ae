/**
 * Failures at the token endpoint: rejections fail fast and are latched (no hammering), 429 honours
 * Retry-After, 5xx / timeouts / network errors / garbage retry with bounded exponential backoff and
 * jitter, and the one error class never carries the secret or the assertion.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import { clientCredentials, TokenRequestError } from 'express-m2m';
import type { OutboundEvent, TokenProvider } from 'express-m2m';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';

const AUDIENCE = 'https://billing.example.test';
let clock = Date.now();
const now = () => clock;
let issuer: LocalIssuer;
let clientId: string;
let clientSecret: string;
const providers: TokenProvider[] = [];

/** The backoff seam: records each delay and advances the fake clock instead of waiting. */
function fakeSleep(delays: number[]) {
  return async (ms: number) => {
    delays.push(ms);
    clock += ms;
  };
}

function provider(options: Partial<Parameters<typeof clientCredentials>[0]> = {}) {
  const delays: number[] = [];
  const events: OutboundEvent[] = [];
  const created = clientCredentials({
    tokenEndpoint: issuer.tokenEndpoint,
    clientId,
    clientSecret,
    audience: AUDIENCE,
    now,
    sleep: fakeSleep(delays),
    onEvent: (event) => events.push(event),
    ...options,
  });
  providers.push(created);
  return { provider: created, delays, events };
}

async function rejection(promise: Promise<unknown>): Promise<TokenRequestError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TokenRequestError);
    return error as TokenRequestError;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  issuer = await createLocalIssuer({ now });
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

describe('4xx rejections (invalid_client, unauthorized_client, ...) fail fast and are latched', () => {
  it('names the OAuth error and status, does not retry, and answers later callers from the latch', async () => {
    const { provider: p, delays } = provider({ clientSecret: 'wrong-secret-value' });
    const error = await rejection(p.getToken());
    expect(error).toMatchObject({ code: 'ERR_TOKEN_REJECTED', error: 'invalid_client', status: 401, retryable: false });
    expect(error.message).toContain('invalid_client');
    expect(error.message).toContain('401');
    expect(issuer.counts.token).toBe(1);
    expect(delays).toEqual([]);

    // 100 more callers right away: the latched error, no new request
    const errors = await Promise.all(Array.from({ length: 100 }, () => rejection(p.getToken())));
    expect(errors.every((e) => e.error === 'invalid_client')).toBe(true);
    expect(issuer.counts.token).toBe(1);

    // cooldown 5 s, then doubling: 10 s, 20 s ...
    clock += 5000;
    await rejection(p.getToken());
    expect(issuer.counts.token).toBe(2);
    clock += 9999;
    await rejection(p.getToken());
    expect(issuer.counts.token).toBe(2);
    clock += 1;
    await rejection(p.getToken());
    expect(issuer.counts.token).toBe(3);
  });

  it.each([
    ['unauthorized_client', 400],
    ['invalid_scope', 400],
    ['access_denied', 403],
  ])('%s (%i) is a rejection too', async (oauthError, status) => {
    issuer.setFault('token', { status, body: JSON.stringify({ error: oauthError, error_description: 'nope' }) });
    const { provider: p } = provider();
    const error = await rejection(p.getToken());
    expect(error).toMatchObject({ code: 'ERR_TOKEN_REJECTED', error: oauthError, error_description: 'nope', status });
    expect(issuer.counts.token).toBe(1);
  });

  it('a failureCooldownDuration of 0 still makes one request per call, never a loop', async () => {
    const { provider: p } = provider({ clientSecret: 'wrong', failureCooldownDuration: 0 });
    await rejection(p.getToken());
    await rejection(p.getToken());
    expect(issuer.counts.token).toBe(2);
  });
});

describe('429 Too Many Requests honours Retry-After', () => {
  it('waits exactly Retry-After when it is short, then succeeds', async () => {
    issuer.setFault('token', { status: 429, headers: { 'Retry-After': '2' }, body: '{"error":"too_many_requests"}', times: 1 });
    const { provider: p, delays, events } = provider();
    await expect(p.getToken()).resolves.toEqual(expect.any(String));
    expect(delays).toEqual([2000]);
    expect(issuer.counts.token).toBe(2);
    expect(events.find((e) => e.type === 'token.retry')).toMatchObject({ attempt: 1, delay: 2000, error: { code: 'ERR_TOKEN_RATE_LIMITED', status: 429 } });
  });

  it('fails at once when Retry-After is longer than retryMaxDelay, and makes no request before it has passed', async () => {
    issuer.setFault('token', { status: 429, headers: { 'Retry-After': '30' }, times: 1 });
    const { provider: p, delays } = provider();
    const error = await rejection(p.getToken());
    expect(error).toMatchObject({ code: 'ERR_TOKEN_RATE_LIMITED', status: 429, retryAfter: 30_000 });
    expect(delays).toEqual([]);
    clock += 29_999;
    await rejection(p.getToken());
    expect(issuer.counts.token).toBe(1);
    clock += 1;
    await expect(p.getToken()).resolves.toEqual(expect.any(String));
    expect(issuer.counts.token).toBe(2);
  });

  it('reads an HTTP-date Retry-After', async () => {
    const at = new Date(clock + 3000).toUTCString();
    issuer.setFault('token', { status: 429, headers: { 'Retry-After': at }, times: 1 });
    const { provider: p, delays } = provider();
    await p.getToken();
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThan(1000);
    expect(delays[0]).toBeLessThanOrEqual(3000);
  });
});

describe('5xx, timeouts, network errors and garbage retry with bounded exponential backoff and jitter', () => {
  it('retries a 500 twice by default (250 ms, 500 ms with jitter), then succeeds', async () => {
    issuer.setFault('token', { status: 500, times: 2 });
    const { provider: p, delays } = provider();
    await expect(p.getToken()).resolves.toEqual(expect.any(String));
    expect(issuer.counts.token).toBe(3);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(125);
    expect(delays[0]).toBeLessThanOrEqual(250);
    expect(delays[1]).toBeGreaterThanOrEqual(250);
    expect(delays[1]).toBeLessThanOrEqual(500);
  });

  it('bounds the delay by retryMaxDelay and gives up after maxRetries with the last error', async () => {
    issuer.setFault('token', { status: 503, body: '{"error":"temporarily_unavailable"}' });
    const { provider: p, delays } = provider({ maxRetries: 6, retryBaseDelay: 1000, retryMaxDelay: 3000 });
    const error = await rejection(p.getToken());
    expect(error).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT_FAILED', status: 503, error: 'temporarily_unavailable', retryable: true });
    expect(issuer.counts.token).toBe(7);
    expect(delays).toHaveLength(6);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(3000);
    for (const delay of delays.slice(2)) expect(delay).toBeGreaterThanOrEqual(1500);
    expect(new Set(delays).size).toBeGreaterThan(1); // jitter
  });

  it('times out a hanging endpoint after timeoutDuration', async () => {
    issuer.setFault('token', { hang: true });
    const { provider: p } = provider({ timeoutDuration: 100, maxRetries: 1 });
    const error = await rejection(p.getToken());
    expect(error).toMatchObject({ code: 'ERR_TOKEN_TIMEOUT', status: undefined });
    expect(issuer.counts.token).toBe(2);
  });

  it('retries a dropped connection, then reports the endpoint unreachable', async () => {
    issuer.setFault('token', { destroy: true });
    const { provider: p } = provider();
    expect(await rejection(p.getToken())).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT_UNREACHABLE' });
    expect(issuer.counts.token).toBe(3);
  });

  it('reports a closed port as unreachable', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const { provider: p } = provider({ tokenEndpoint: `http://127.0.0.1:${port}/oauth/token`, maxRetries: 0 });
    expect(await rejection(p.getToken())).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT_UNREACHABLE' });
  });

  it.each([
    ['an HTML page', { html: true }],
    ['a JSON body without access_token', { status: 200, body: '{"token_type":"Bearer"}' }],
    ['a non-JSON body', { status: 200, body: 'not json at all' }],
    ['a token_type other than Bearer', { status: 200, body: '{"access_token":"x","token_type":"DPoP"}' }],
  ])('treats %s as an invalid response, retried', async (_name, fault) => {
    issuer.setFault('token', { ...fault, times: 1 });
    const { provider: p, events } = provider();
    await expect(p.getToken()).resolves.toEqual(expect.any(String));
    expect(issuer.counts.token).toBe(2);
    expect(events.find((e) => e.type === 'token.retry')).toMatchObject({ error: { code: 'ERR_TOKEN_RESPONSE_INVALID' } });
  });

  it('does not read an answer larger than 1 MiB', async () => {
    issuer.setFault('token', { status: 200, body: JSON.stringify({ access_token: 'x'.repeat(2_000_000), token_type: 'Bearer' }), times: 1 });
    const { provider: p, events } = provider();
    await expect(p.getToken()).resolves.toEqual(expect.any(String));
    expect(events.find((e) => e.type === 'token.retry')).toMatchObject({ error: { code: 'ERR_TOKEN_RESPONSE_INVALID', message: expect.stringContaining('more than 1048576 bytes') } });
  });

  it('a failed discovery is an error of its own', async () => {
    issuer.setFault('discovery', { status: 500 });
    const { provider: p } = provider({ tokenEndpoint: undefined, issuerBaseURL: issuer.url, maxRetries: 0 });
    expect(await rejection(p.getToken())).toMatchObject({ code: 'ERR_TOKEN_DISCOVERY_FAILED' });
    expect(issuer.counts.token).toBe(0);
  });
});

describe('the error never carries the secret, the assertion or a token', () => {
  it('client_secret_post with a bad secret', async () => {
    const secret = 'super-secret-value-1234567890';
    issuer.setFault('token', { status: 401, body: JSON.stringify({ error: 'invalid_client' }) });
    const { provider: p, events } = provider({ clientSecret: secret, authMethod: 'client_secret_post' });
    const error = await rejection(p.getToken());
    const text = `${error.message} ${error.stack} ${JSON.stringify(error)} ${JSON.stringify(events)}`;
    expect(text).not.toContain(secret);
    expect(text).not.toContain(encodeURIComponent(secret));
  });

  it('private_key_jwt with an unknown key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const { provider: p, events } = provider({ clientSecret: undefined, privateKey: pem });
    const error = await rejection(p.getToken());
    expect(error.error).toBe('invalid_client');
    const assertion = issuer.lastTokenRequest?.params.client_assertion as string;
    expect(assertion.length).toBeGreaterThan(50);
    const text = `${error.message} ${error.stack} ${JSON.stringify(error)} ${JSON.stringify(events)}`;
    expect(text).not.toContain(assertion);
    expect(text).not.toContain(assertion.split('.')[2]);
  });
});

describe('TokenRequestError.message is built from sanitised, bounded fields (no control characters, no flood)', () => {
  it('a 20,000-character error_description with newlines does not reach the message as is', async () => {
    const description = `line1\nFAKE LOG LINE level=info user=admin\r\n\u001b[31m${'x'.repeat(20_000)}`;
    issuer.setFault('token', { status: 400, body: JSON.stringify({ error: 'invalid_client\nforged', error_description: description }) });
    const { provider: p } = provider();
    const error = await rejection(p.getToken());
    expect(error.message).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(error.message.length).toBeLessThanOrEqual(200 + issuer.tokenEndpoint.length + 100);
    expect(error.message).toContain('invalid_client?forged');
    expect(error.message).toContain('line1?FAKE LOG LINE');
    expect(error.error_description?.length).toBeLessThanOrEqual(200);
  });
});
