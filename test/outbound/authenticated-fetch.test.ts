/**
 * `provider.fetch`: the platform fetch with `Authorization: Bearer`, and on a 401
 * `WWW-Authenticate: Bearer error="invalid_token"` one forced refresh and one retry, only when
 * the request body can be sent again. The downstream is a real node:http server.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Readable } from 'node:stream';
import { clientCredentials } from 'express-m2m';
import type { OutboundEvent, TokenProvider } from 'express-m2m';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';

const AUDIENCE = 'https://billing.example.test';
let issuer: LocalIssuer;
let clientId: string;
let clientSecret: string;
let downstream: Server;
let base: string;
/** Tokens the downstream refuses with 401 invalid_token. */
const refused = new Set<string>();
/** What the downstream received. */
const received: { authorization: string | undefined; body: string; method: string; url: string; custom: string | undefined }[] = [];
/** When set, the downstream answers 401 with this challenge to every request. */
let alwaysChallenge: string | undefined;

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  issuer = await createLocalIssuer();
  ({ clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] }) as { clientId: string; clientSecret: string });
  downstream = createServer(async (request, response) => {
    const body = await readBody(request);
    const authorization = request.headers.authorization;
    received.push({ authorization, body, method: request.method ?? '', url: request.url ?? '', custom: request.headers['x-custom'] as string | undefined });
    const token = authorization?.replace(/^Bearer /, '') ?? '';
    if (alwaysChallenge !== undefined) {
      response.writeHead(401, { 'www-authenticate': alwaysChallenge }).end();
      return;
    }
    if (refused.has(token)) {
      response.writeHead(401, { 'www-authenticate': 'Bearer realm="billing", error="invalid_token", error_description="revoked"' }).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, echo: body }));
  });
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(downstream.address() as { port: number }).port}`;
});
afterAll(async () => {
  await issuer.close();
  await new Promise((resolve) => downstream.close(resolve));
});

let provider: TokenProvider;
let events: OutboundEvent[];
beforeEach(() => {
  issuer.clearFaults();
  issuer.resetCounts();
  refused.clear();
  received.length = 0;
  alwaysChallenge = undefined;
  events = [];
  provider = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, onEvent: (e) => events.push(e) });
});
afterEach(async () => {
  await provider.close();
});

describe('Authorization: Bearer is attached to every request', () => {
  it('adds the token, keeps the caller\'s headers, method and body', async () => {
    const token = await provider.getToken();
    const response = await provider.fetch(`${base}/invoices?page=2`, {
      method: 'POST',
      headers: { 'x-custom': 'kept', authorization: 'Basic overridden' },
      body: 'hello',
    });
    expect(response.status).toBe(200);
    expect(received).toEqual([{ authorization: `Bearer ${token}`, body: 'hello', method: 'POST', url: '/invoices?page=2', custom: 'kept' }]);
  });

  it('accepts a Request object and a URL', async () => {
    const token = await provider.getToken();
    await provider.fetch(new Request(`${base}/a`, { headers: { 'x-custom': 'from-request' } }));
    await provider.fetch(new URL(`${base}/b`));
    expect(received.map((r) => [r.url, r.authorization, r.custom])).toEqual([
      ['/a', `Bearer ${token}`, 'from-request'],
      ['/b', `Bearer ${token}`, undefined],
    ]);
  });

  it('50 concurrent fetches on a cold provider cause one token request', async () => {
    const responses = await Promise.all(Array.from({ length: 50 }, () => provider.fetch(`${base}/x`)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(issuer.counts.token).toBe(1);
  });
});

describe('401 with Bearer error="invalid_token": one forced refresh, one retry, when the body can be replayed', () => {
  it.each([
    ['no body', undefined],
    ['a string', 'payload'],
    ['a Uint8Array', new TextEncoder().encode('payload')],
    ['an ArrayBuffer', new TextEncoder().encode('payload').buffer],
    ['URLSearchParams', new URLSearchParams({ a: 'payload' })],
    ['a Blob', new Blob(['payload'])],
  ])('retries with a new token and the same body (%s)', async (_name, body) => {
    const first = await provider.getToken();
    refused.add(first);
    const response = await provider.fetch(`${base}/invoices`, { method: body === undefined ? 'GET' : 'POST', body: body as RequestInit['body'] });
    expect(response.status).toBe(200);
    expect(issuer.counts.token).toBe(2);
    expect(received).toHaveLength(2);
    expect(received[0]?.authorization).toBe(`Bearer ${first}`);
    expect(received[1]?.authorization).not.toBe(`Bearer ${first}`);
    expect(received[1]?.authorization).toBe(`Bearer ${await provider.getToken()}`);
    expect(received[1]?.body).toBe(received[0]?.body);
    expect(events).toContainEqual(expect.objectContaining({ type: 'token.rejected_downstream', retried: true, url: `${base}/invoices` }));
  });

  it('retries only once: a second 401 is returned to the caller', async () => {
    alwaysChallenge = 'Bearer error="invalid_token"';
    const response = await provider.fetch(`${base}/invoices`);
    expect(response.status).toBe(401);
    expect(received).toHaveLength(2);
    expect(issuer.counts.token).toBe(2);
  });

  it('does not retry a streamed body (it cannot be sent again)', async () => {
    const first = await provider.getToken();
    refused.add(first);
    const stream = Readable.toWeb(Readable.from([Buffer.from('chunk')])) as ReadableStream<Uint8Array>;
    const response = await provider.fetch(`${base}/upload`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(401);
    expect(received).toHaveLength(1);
    expect(issuer.counts.token).toBe(1);
    expect(events).toContainEqual(expect.objectContaining({ type: 'token.rejected_downstream', retried: false }));
  });

  it.each([
    ['a 401 without a challenge', undefined],
    ['a Basic challenge', 'Basic realm="x"'],
    ['insufficient_scope', 'Bearer error="insufficient_scope"'],
  ])('does not refresh on %s', async (_name, challenge) => {
    alwaysChallenge = challenge ?? '';
    const response = await provider.fetch(`${base}/invoices`);
    expect(response.status).toBe(401);
    expect(received).toHaveLength(1);
    expect(issuer.counts.token).toBe(1);
  });

  it('concurrent requests refused with the same token share one refresh', async () => {
    const first = await provider.getToken();
    refused.add(first);
    const responses = await Promise.all(Array.from({ length: 20 }, () => provider.fetch(`${base}/invoices`)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(issuer.counts.token).toBe(2);
  });
});

describe('a downstream that refuses every token does not cause a token request per call (latched for failureCooldownDuration)', () => {
  it('20 calls -> 2 token requests (the first token and one replacement); one more per cooldown', async () => {
    alwaysChallenge = 'Bearer error="invalid_token"';
    let clock = Date.now();
    const hammered = clientCredentials({
      tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, now: () => clock, onEvent: (e) => events.push(e),
    });
    try {
      for (let i = 0; i < 20; i += 1) {
        const response = await hammered.fetch(`${base}/invoices`);
        expect(response.status).toBe(401);
        await response.body?.cancel();
      }
      expect(issuer.counts.token).toBe(2);
      expect(received).toHaveLength(21); // one retry (with the replacement), then the 401 is returned as is
      expect(events.filter((e) => e.type === 'token.rejected_downstream' && !e.retried)).toHaveLength(19);

      clock += 4999;
      await (await hammered.fetch(`${base}/invoices`)).body?.cancel();
      expect(issuer.counts.token).toBe(2);
      clock += 1; // the replacement was refused 5 s ago: one more try
      await (await hammered.fetch(`${base}/invoices`)).body?.cancel();
      expect(issuer.counts.token).toBe(3);
      await (await hammered.fetch(`${base}/invoices`)).body?.cancel();
      expect(issuer.counts.token).toBe(3);
    } finally {
      await hammered.close();
    }
  });

  it('a downstream that refuses one token and accepts its replacement keeps working (refused again later -> refreshed again)', async () => {
    let clock = Date.now();
    const p = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, now: () => clock });
    try {
      refused.add(await p.getToken());
      expect((await p.fetch(`${base}/a`)).status).toBe(200);
      expect(issuer.counts.token).toBe(2);
      clock += 10_000;
      refused.add(await p.getToken()); // the replacement is revoked later too
      expect((await p.fetch(`${base}/a`)).status).toBe(200);
      expect(issuer.counts.token).toBe(3);
    } finally {
      await p.close();
    }
  });
});

describe('token.rejected_downstream names the URL without its query (README, outbound events)', () => {
  const SECRET_LOOKING = 'sig-6f1c0ffee0ddba11';
  const query = `?api_key=${SECRET_LOOKING}&page=2`;

  function rejections(): Array<{ url: string; retried: boolean }> {
    return events.flatMap((event) => (event.type === 'token.rejected_downstream' ? [{ url: event.url, retried: event.retried }] : []));
  }

  function expectWithoutQuery(url: string, path: string): void {
    expect(url).not.toContain('?');
    expect(url).not.toContain(SECRET_LOOKING);
    expect(url).not.toContain('api_key');
    const parsed = new URL(url);
    expect(parsed.search).toBe('');
    expect(`${parsed.origin}${parsed.pathname}`).toBe(`${base}${path}`);
  }

  it.each([
    ['a string', (path: string) => `${base}${path}${query}#section`],
    ['a URL', (path: string) => new URL(`${base}${path}${query}#section`)],
    ['a Request', (path: string) => new Request(`${base}${path}${query}#section`)],
  ])('input as %s: both the retried and the returned 401 are reported without the query', async (_name, input) => {
    alwaysChallenge = 'Bearer error="invalid_token", error_description="revoked"';
    // first call: refused, one refresh, retried and refused again; second call: the refused token is
    // that recent replacement, so the 401 is returned as is
    for (const path of ['/invoices', '/ledger']) {
      const response = await provider.fetch(input(path));
      expect(response.status).toBe(401);
      await response.body?.cancel();
    }
    expect(rejections().map((r) => r.retried)).toEqual([true, false]);
    expectWithoutQuery(rejections()[0]?.url as string, '/invoices');
    expectWithoutQuery(rejections()[1]?.url as string, '/ledger');
    // the downstream itself got the query: only the event leaves it out
    expect(received.map((r) => r.url)).toEqual([`/invoices${query}`, `/invoices${query}`, `/ledger${query}`]);
  });

  it('a streamed body that cannot be retried is reported without the query too', async () => {
    alwaysChallenge = 'Bearer error="invalid_token"';
    const stream = Readable.toWeb(Readable.from([Buffer.from('chunk')])) as ReadableStream<Uint8Array>;
    const response = await provider.fetch(`${base}/upload${query}`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(401);
    await response.body?.cancel();
    expect(rejections().map((r) => r.retried)).toEqual([false]);
    expectWithoutQuery(rejections()[0]?.url as string, '/upload');
  });
});
