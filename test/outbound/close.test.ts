/**
 * close(): pending retry delays (and every other wait of the provider) end at once, callers get
 * ERR_TOKEN_PROVIDER_CLOSED, and no timer of the provider keeps the process alive.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { clientCredentials, TokenRequestError } from 'express-m2m';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';

const AUDIENCE = 'https://billing.example.test';
let issuer: LocalIssuer;
let clientId: string;
let clientSecret: string;

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
});

describe('close() cancels pending waits: callers are answered at once, nothing keeps the process alive', () => {
  it('a caller waiting out a 60 s retry delay gets ERR_TOKEN_PROVIDER_CLOSED as soon as close() is called', async () => {
    issuer.setFault('token', { status: 500 });
    let onRetry = () => undefined as void;
    const retried = new Promise<void>((resolve) => { onRetry = resolve; });
    const provider = clientCredentials({
      tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE,
      retryBaseDelay: 60_000, retryMaxDelay: 60_000,
      onEvent: (event) => { if (event.type === 'token.retry') onRetry(); },
    });
    const pending = provider.getToken().then(() => undefined, (error: unknown) => error);
    await retried;
    await provider.close();
    const error = await pending; // before the fix: pending for the whole 30-60 s delay (test timeout)
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ code: 'ERR_TOKEN_PROVIDER_CLOSED' });
    expect(issuer.counts.token).toBe(1);
  }, 10_000);

  it('a caller waiting on a token request that hangs gets ERR_TOKEN_PROVIDER_CLOSED as soon as close() is called', async () => {
    issuer.setFault('token', { hang: true });
    const provider = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, timeoutDuration: 60_000 });
    const pending = provider.getToken().then(() => undefined, (error: unknown) => error);
    while (issuer.counts.token === 0) await new Promise((resolve) => setImmediate(resolve));
    await provider.close();
    expect(await pending).toMatchObject({ code: 'ERR_TOKEN_PROVIDER_CLOSED' });
  }, 10_000);

  it('a child process closed during a 60 s retry delay exits on its own', async () => {
    issuer.setFault('token', { status: 500 });
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'close-child.ts'), issuer.tokenEndpoint, clientId, clientSecret], {
      cwd: join(__dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
    // the bound is generous (the delay it must not wait for is 30-60 s); on expiry the child is killed and the test fails
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(killer);
    expect(output).toBe('rejected ERR_TOKEN_PROVIDER_CLOSED\n');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  }, 30_000);
});

describe('deadlineDuration: a caller never waits longer than its deadline for a token', () => {
  it('a hanging endpoint (60 s request timeout) -> getToken rejects with ERR_TOKEN_TIMEOUT at the 200 ms deadline; the request goes on', async () => {
    issuer.setFault('token', { hang: true });
    const provider = clientCredentials({
      tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE,
      timeoutDuration: 60_000, deadlineDuration: 200, sleep: async () => undefined,
    });
    try {
      const error = await provider.getToken().then(() => undefined, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(TokenRequestError);
      expect(error).toMatchObject({ code: 'ERR_TOKEN_TIMEOUT', retryable: true });
      expect((error as Error).message).toContain('deadlineDuration');
      // the request in flight is joined, not repeated
      await expect(provider.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_TIMEOUT' });
      expect(issuer.counts.token).toBe(1);
    } finally {
      await provider.close();
    }
  }, 10_000);

  it('a bad deadlineDuration fails at construction, naming the option', () => {
    expect(() => clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, deadlineDuration: -1 })).toThrow(/"deadlineDuration"/);
  });
});
