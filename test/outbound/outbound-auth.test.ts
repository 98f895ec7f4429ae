/**
 * outboundAuth(): route handlers get authenticated downstream clients on `req.outbound`, with
 * providers built once at construction. Real Express 4 and 5 apps, a real issuer, a real downstream.
 */
import { createServer, type Server } from 'node:http';
import express from 'express';
import express4 from 'express4';
import request from 'supertest';
import { clientCredentials, getOutbound, OutboundTokenError, outboundAuth } from 'express-m2m';
import type { OutboundAuthMiddleware, OutboundAuthOptions, OutboundServiceClient } from 'express-m2m';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';

// The README shows how an app types its service names (declaration merging of OutboundServiceRegistry).
// Not done here: an augmentation in a test would change the types of every file of the project.
type Named = Record<'billing' | 'ledger', OutboundServiceClient>;

const BILLING = 'https://billing.example.test';
const LEDGER = 'https://ledger.example.test';
let issuer: LocalIssuer;
let clientId: string;
let clientSecret: string;
let downstream: Server;
let downstreamUrl: string;
const seen: { url: string; authorization: string | undefined }[] = [];
const middlewares: OutboundAuthMiddleware[] = [];

beforeAll(async () => {
  issuer = await createLocalIssuer();
  ({ clientId, clientSecret } = issuer.registerClient({ audiences: [BILLING, LEDGER] }) as { clientId: string; clientSecret: string });
  downstream = createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url }));
  });
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
  downstreamUrl = `http://127.0.0.1:${(downstream.address() as { port: number }).port}`;
});
afterAll(async () => {
  await Promise.all(middlewares.map((m) => m.close()));
  await new Promise((resolve) => downstream.close(resolve));
  await issuer.close();
});
beforeEach(() => {
  issuer.clearFaults();
  issuer.resetCounts();
  seen.length = 0;
});

function middleware(options: Partial<OutboundAuthOptions> = {}): OutboundAuthMiddleware {
  const created = outboundAuth({
    defaults: { tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret },
    services: {
      billing: { baseUrl: `${downstreamUrl}/billing/`, audience: BILLING },
      ledger: { baseUrl: `${downstreamUrl}/ledger`, audience: LEDGER },
    },
    ...options,
  });
  middlewares.push(created);
  return created;
}

function audienceOf(authorization: string | undefined): unknown {
  const payload = authorization?.replace(/^Bearer /, '').split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')).aud;
}

const versions = [
  ['Express 5', () => express()],
  ['Express 4', () => express4() as unknown as ReturnType<typeof express>],
] as const;

describe.each(versions)('%s: req.outbound gives handlers authenticated clients', (_name, makeApp) => {
  function app(outbound: OutboundAuthMiddleware) {
    const application = makeApp();
    application.use(outbound);
    application.get('/by-name', (req, res, next) => {
      getOutbound(req).fetch('billing', '/invoices?order=42')
        .then(async (response) => res.status(response.status).json(await response.json()))
        .catch(next);
    });
    application.get('/by-property', (req, res, next) => {
      (getOutbound(req) as unknown as Named).ledger.fetch('entries')
        .then(async (response) => res.status(response.status).json(await response.json()))
        .catch(next);
    });
    application.get('/same', (req, res) => {
      res.json({ same: req.outbound === outbound.clients });
    });
    application.get('/absolute', (req, res, next) => {
      getOutbound(req).fetch('billing', 'http://evil.example.test/steal').then(() => res.end(), next);
    });
    application.use((error: Error & { status?: number; code?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(error.status ?? 500).json({ name: error.name, code: error.code ?? null });
    });
    return application;
  }

  it('req.outbound.fetch(name, path) sends the service\'s token to baseUrl + path', async () => {
    const outbound = middleware();
    const response = await request(app(outbound)).get('/by-name');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ path: '/billing/invoices?order=42' });
    expect(seen).toHaveLength(1);
    expect(audienceOf(seen[0]?.authorization)).toBe(BILLING);
  });

  it('req.outbound.<name>.fetch(path) works too, with that service\'s audience', async () => {
    const response = await request(app(middleware())).get('/by-property');
    expect(response.body).toEqual({ path: '/ledger/entries' });
    expect(audienceOf(seen[0]?.authorization)).toBe(LEDGER);
  });

  it('builds providers once: 30 requests, one token request, the same clients object each time', async () => {
    const outbound = middleware();
    const application = app(outbound);
    const responses = await Promise.all(Array.from({ length: 30 }, () => request(application).get('/by-name')));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(issuer.counts.token).toBe(1);
    expect((await request(application).get('/same')).body).toEqual({ same: true });
  });

  it('refuses an absolute URL (the token would leave for another origin)', async () => {
    const response = await request(app(middleware())).get('/absolute');
    expect(response.status).toBe(500);
    expect(response.body.name).toBe('TypeError');
    expect(seen).toHaveLength(0);
    expect(issuer.counts.token).toBe(0);
  });

  it('a rejected client becomes a 502 OutboundTokenError, not the authorization server\'s 401', async () => {
    const outbound = middleware({ defaults: { tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret: 'wrong-secret' } });
    const response = await request(app(outbound)).get('/by-name');
    expect(response.status).toBe(502);
    expect(response.body).toEqual({ name: 'OutboundTokenError', code: 'ERR_OUTBOUND_TOKEN_UNAVAILABLE' });
  });

  it('an unavailable authorization server becomes a 503 with Retry-After', async () => {
    issuer.setFault('token', { status: 503 });
    const outbound = middleware({ defaults: { tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, maxRetries: 0 } });
    const application = makeApp();
    application.use(outbound);
    // The handler only records what getToken() gave and always answers; the assertions run below,
    // outside Express, so a wrong outcome fails at once instead of leaving the request hanging.
    let outcome: { token: string } | { error: unknown } | undefined;
    application.get('/x', (req, res, next) => {
      getOutbound(req).service('billing').getToken().then(
        (token) => {
          outcome = { token };
          res.status(200).json({ unexpected: 'a token' });
        },
        (error: unknown) => {
          outcome = { error };
          next(error);
        },
      );
    });
    const response = await request(application).get('/x');
    expect(outcome).toEqual({ error: expect.any(OutboundTokenError) });
    const error = (outcome as { error: OutboundTokenError }).error;
    expect(error.status).toBe(503);
    expect(error.cause.status).toBe(503);
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
  });
});

describe('services share tokens and providers as configured', () => {
  it('services with the same audience share one token through the shared memory cache', async () => {
    const outbound = middleware({
      services: {
        billing: { baseUrl: downstreamUrl, audience: BILLING },
        ledger: { baseUrl: downstreamUrl, audience: BILLING },
      },
    });
    const a = await outbound.clients.service('billing').getToken();
    const b = await outbound.clients.service('ledger').getToken();
    expect(a).toBe(b);
    expect(issuer.counts.token).toBe(1);
  });

  it('uses a given provider as-is, and does not close it', async () => {
    const provider = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: BILLING });
    const outbound = outboundAuth({ services: { billing: { baseUrl: downstreamUrl, provider } } });
    expect((outbound.clients as unknown as Named).billing.provider).toBe(provider);
    expect(outbound.clients.service('billing').provider).toBe(provider);
    await outbound.clients.fetch('billing', '/x');
    expect(seen[0]?.authorization).toBe(`Bearer ${await provider.getToken()}`);
    await outbound.close();
    await expect(provider.getToken()).resolves.toEqual(expect.any(String));
    await provider.close();
  });

  it('an unknown service name rejects with a message naming the known ones', async () => {
    const outbound = middleware();
    await expect(outbound.clients.fetch('nope', '/x')).rejects.toThrow(/unknown service "nope" \(known: billing, ledger\)/);
  });
});

describe('bad options fail at construction, naming the option', () => {
  it.each([
    [{ services: {} }, /"services"/],
    [{ services: { billing: { baseUrl: 'not a url' } } }, /"services\.billing\.baseUrl" must be an absolute http\(s\) URL/],
    [{ services: { fetch: { baseUrl: 'https://x.test' } } }, /service name "fetch" is reserved/],
    [{ services: { billing: { baseUrl: 'https://x.test', clientId: 'a' } } }, /services\.billing: .*"(clientSecret|tokenEndpoint)"/],
    [{ services: { billing: { baseUrl: 'https://x.test', provider: {} } } }, /"services\.billing\.provider" must be a TokenProvider/],
  ])('%#', (options, message) => {
    expect(() => outboundAuth(options as unknown as OutboundAuthOptions)).toThrow(message);
  });
});

describe('getOutbound(req): the typed accessor of req.outbound', () => {
  it('throws a TypeError naming the setup mistake on a request outboundAuth() did not run for', () => {
    expect(() => getOutbound({})).toThrow(/req\.outbound is not set: mount outboundAuth\(\) before this route/);
  });
});
