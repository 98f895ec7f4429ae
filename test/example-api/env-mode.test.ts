/**
 * The example API configured by environment variables against an authorization server it did
 * not start: a local issuer and downstream services created here, in the test process, and the
 * example run as a child process (as `npm start` runs it) with env pointing there.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { describeApiContract, startTestDownstream, type ContractContext, type TestDownstream } from './api-contract.js';
import { call, claimsOf, fetchToken, startExampleProcess, type ExampleProcess } from './support.js';

const API_AUDIENCE = 'https://orders.test.example';
const DOWNSTREAM_AUDIENCE = 'https://stock.test.example';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An issuer with the caller client (for the API) and the API's own client (for the downstream). */
async function issuerWithClients(): Promise<{
  issuer: LocalIssuer;
  caller: { clientId: string; clientSecret: string };
  service: { clientId: string; clientSecret: string };
}> {
  const issuer = await createLocalIssuer();
  const caller = issuer.registerClient({ clientId: 'orders-app', audiences: [API_AUDIENCE], scopes: ['read:orders', 'write:orders'] });
  const service = issuer.registerClient({ clientId: 'orders-api', audiences: [DOWNSTREAM_AUDIENCE], scopes: ['read:stock'] });
  return {
    issuer,
    caller: { clientId: caller.clientId, clientSecret: caller.clientSecret as string },
    service: { clientId: service.clientId, clientSecret: service.clientSecret as string },
  };
}

const issuers: LocalIssuer[] = [];
const children: ExampleProcess[] = [];
let downstream: TestDownstream;

// Mode A: ISSUER_BASE_URL (discovery for keys and token endpoint), DOWNSTREAM_URL to the test downstream.
let a: { example: ExampleProcess; issuer: LocalIssuer; service: { clientId: string; clientSecret: string }; context: ContractContext };
// Mode B: ISSUER + JWKS_URI + TOKEN_ENDPOINT + CLIENT_AUTH_METHOD=client_secret_post, built-in downstream.
let b: { example: ExampleProcess; issuer: LocalIssuer; token: string };
// Token endpoint unreachable; token endpoint failing (500); client secret wrong; no outbound variables.
let unreachable: { example: ExampleProcess; token: string };
let failing: { example: ExampleProcess; issuer: LocalIssuer; token: string };
let wrongSecret: { example: ExampleProcess; token: string };
let inboundOnly: { example: ExampleProcess; token: string };
// ISSUER_BASE_URL where nothing listens.
let issuerDown: { example: ExampleProcess; token: string };

async function start(env: Record<string, string>): Promise<ExampleProcess> {
  const example = await startExampleProcess({ PORT: '0', ...env });
  children.push(example);
  return example;
}

beforeAll(async () => {
  downstream = await startTestDownstream();
  const [ia, ib, ic, id, ie, foreign] = await Promise.all([
    issuerWithClients(), issuerWithClients(), issuerWithClients(), issuerWithClients(), issuerWithClients(), createLocalIssuer(),
  ]);
  issuers.push(ia.issuer, ib.issuer, ic.issuer, id.issuer, ie.issuer, foreign);
  const deadPort = await closedPort();
  ic.issuer.setFault('token', { status: 500 });

  const [exampleA, exampleB, exampleUnreachable, exampleFailing, exampleWrongSecret, exampleInboundOnly, exampleIssuerDown] = await Promise.all([
    start({
      ISSUER_BASE_URL: ia.issuer.url, AUDIENCE: API_AUDIENCE,
      CLIENT_ID: ia.service.clientId, CLIENT_SECRET: ia.service.clientSecret,
      DOWNSTREAM_URL: downstream.url, DOWNSTREAM_AUDIENCE,
    }),
    start({
      ISSUER: ib.issuer.issuer, JWKS_URI: ib.issuer.jwksUri, AUDIENCE: API_AUDIENCE,
      TOKEN_ENDPOINT: ib.issuer.tokenEndpoint, CLIENT_ID: ib.service.clientId, CLIENT_SECRET: ib.service.clientSecret,
      CLIENT_AUTH_METHOD: 'client_secret_post', DOWNSTREAM_AUDIENCE,
    }),
    start({
      ISSUER_BASE_URL: id.issuer.url, AUDIENCE: API_AUDIENCE, TOKEN_ENDPOINT: `http://127.0.0.1:${deadPort}/oauth/token`,
      CLIENT_ID: id.service.clientId, CLIENT_SECRET: id.service.clientSecret, DOWNSTREAM_URL: downstream.url, DOWNSTREAM_AUDIENCE,
    }),
    start({
      ISSUER_BASE_URL: ic.issuer.url, AUDIENCE: API_AUDIENCE,
      CLIENT_ID: ic.service.clientId, CLIENT_SECRET: ic.service.clientSecret, DOWNSTREAM_URL: downstream.url, DOWNSTREAM_AUDIENCE,
    }),
    start({
      ISSUER_BASE_URL: ie.issuer.url, AUDIENCE: API_AUDIENCE,
      CLIENT_ID: ie.service.clientId, CLIENT_SECRET: 'definitely-the-wrong-secret', DOWNSTREAM_URL: downstream.url, DOWNSTREAM_AUDIENCE,
    }),
    start({ ISSUER_BASE_URL: ie.issuer.url, AUDIENCE: API_AUDIENCE }),
    start({ ISSUER_BASE_URL: `http://127.0.0.1:${deadPort}`, AUDIENCE: API_AUDIENCE }),
  ]);

  const tokenFor = (set: Awaited<ReturnType<typeof issuerWithClients>>, scope?: string): Promise<string> =>
    fetchToken(set.issuer.tokenEndpoint, set.caller, { audience: API_AUDIENCE, ...(scope === undefined ? {} : { scope }) });
  const [fullToken, readOnlyToken, tokenB, tokenD, tokenE] = await Promise.all([
    tokenFor(ia), tokenFor(ia, 'read:orders'), tokenFor(ib), tokenFor(id), tokenFor(ie),
  ]);
  const now = Math.floor(Date.now() / 1000);
  a = {
    example: exampleA,
    issuer: ia.issuer,
    service: ia.service,
    context: {
      url: exampleA.url,
      fullToken,
      readOnlyToken,
      sub: 'orders-app@clients',
      untrustedTokens: [
        { label: 'expired', token: await ia.issuer.accessToken({ clientId: 'orders-app', audience: API_AUDIENCE, claims: { iat: now - 7200, exp: now - 3600 } }) },
        { label: 'not yet valid', token: await ia.issuer.accessToken({ clientId: 'orders-app', audience: API_AUDIENCE, claims: { nbf: now + 3600 } }) },
        { label: 'for another audience (the downstream\'s)', token: await ia.issuer.accessToken({ clientId: 'orders-app', audience: DOWNSTREAM_AUDIENCE }) },
        { label: 'with another iss', token: await ia.issuer.accessToken({ clientId: 'orders-app', audience: API_AUDIENCE, claims: { iss: 'https://evil.example/' } }) },
        { label: 'HS256 signed with the issuer\'s public key', token: await ia.issuer.sign({ sub: 'orders-app@clients', aud: API_AUDIENCE, scope: 'read:orders' }, { alg: 'HS256', key: ia.issuer.publicKeyPem() }) },
        { label: 'signed by another issuer\'s key, claiming this issuer', token: await foreign.sign({ iss: ia.issuer.issuer, sub: 'orders-app@clients', aud: API_AUDIENCE }) },
      ],
    },
  };
  b = { example: exampleB, issuer: ib.issuer, token: tokenB };
  unreachable = { example: exampleUnreachable, token: tokenD };
  // The caller's token is minted directly: this issuer's token endpoint fails on purpose.
  failing = { example: exampleFailing, issuer: ic.issuer, token: await ic.issuer.accessToken({ clientId: 'orders-app', audience: API_AUDIENCE }) };
  wrongSecret = { example: exampleWrongSecret, token: tokenE };
  inboundOnly = { example: exampleInboundOnly, token: tokenE };
  issuerDown = { example: exampleIssuerDown, token: tokenE };
}, 180_000);

afterAll(async () => {
  await Promise.all(children.map((child) => child.stop()));
  await Promise.all([...issuers.map((issuer) => issuer.close()), downstream?.close()]);
}, 60_000);

describe('Configured by ISSUER_BASE_URL and AUDIENCE (discovery): every route and error', () => {
  it('prints no demo client and no secret, only where it listens and what it trusts', () => {
    const { stdout, stderr } = a.example.output;
    expect(stdout).toContain(`listening on ${a.example.url}`);
    expect(stdout).toContain(a.issuer.url);
    expect(stdout).toContain(API_AUDIENCE);
    expect(stdout).not.toContain('CLIENT_SECRET=');
    expect(stdout + stderr).not.toContain(a.service.clientSecret);
  });
});

describeApiContract(() => a.context);

describe('GET /api/downstream (configured): DOWNSTREAM_URL called with a client-credentials token for DOWNSTREAM_AUDIENCE', () => {
  beforeEach(() => {
    downstream.mode = 'json';
    downstream.received.length = 0;
  });

  it('answers 200 with the downstream\'s JSON body; the downstream got a token of CLIENT_ID for DOWNSTREAM_AUDIENCE', async () => {
    const answer = await call(`${a.example.url}/api/downstream`, { token: a.context.fullToken });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ from: 'test-downstream', ok: true });
    expect(downstream.received).toHaveLength(1);
    const authorization = downstream.received[0]?.authorization ?? '';
    expect(authorization).toMatch(/^Bearer /);
    const claims = claimsOf(authorization.slice('Bearer '.length));
    expect(claims).toMatchObject({ aud: DOWNSTREAM_AUDIENCE, sub: 'orders-api@clients', iss: a.issuer.issuer });
    expect(downstream.received[0]?.path).toBe('/stock');
  });

  it('discovered the token endpoint from ISSUER_BASE_URL and reuses its token across calls', async () => {
    await call(`${a.example.url}/api/downstream`, { token: a.context.fullToken });
    const tokenRequests = a.issuer.tokenRequests.filter((request) => request.params.audience === DOWNSTREAM_AUDIENCE);
    await call(`${a.example.url}/api/downstream`, { token: a.context.fullToken });
    await call(`${a.example.url}/api/downstream`, { token: a.context.fullToken });
    expect(a.issuer.tokenRequests.filter((request) => request.params.audience === DOWNSTREAM_AUDIENCE)).toHaveLength(tokenRequests.length);
    expect(tokenRequests).toHaveLength(1);
    expect(a.issuer.counts.discovery).toBeGreaterThan(0);
    expect(downstream.received).toHaveLength(3);
  });

  it('passes on a 4xx of the downstream with its JSON body', async () => {
    downstream.mode = 'not-found';
    const answer = await call(`${a.example.url}/api/downstream`, { token: a.context.fullToken });
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ error: 'no_such_thing' });
  });

  it('a 5xx of the downstream: 502 bad_gateway (never a 500 of its own)', async () => {
    downstream.mode = 'server-error';
    const answer = await call(`${a.example.url}/api/downstream`, { token: a.context.fullToken });
    expect(answer.status).toBe(502);
    expect(answer.body).toEqual({ error: 'bad_gateway', error_description: expect.stringContaining('500') });
  });

  it('a downstream answer that is not JSON: 502 bad_gateway', async () => {
    downstream.mode = 'text';
    const answer = await call(`${a.example.url}/api/downstream`, { token: a.context.fullToken });
    expect(answer.status).toBe(502);
    expect(answer.body).toEqual({ error: 'bad_gateway', error_description: expect.any(String) });
  });

  it('a downstream that drops the connection: 502 bad_gateway', async () => {
    downstream.mode = 'destroy';
    const answer = await call(`${a.example.url}/api/downstream`, { token: a.context.fullToken });
    expect(answer.status).toBe(502);
    expect(answer.body).toEqual({ error: 'bad_gateway', error_description: 'the downstream service is unreachable' });
  });
});

describe('Configured by ISSUER + JWKS_URI + TOKEN_ENDPOINT, CLIENT_AUTH_METHOD=client_secret_post, no DOWNSTREAM_URL', () => {
  it('verifies tokens without discovery', async () => {
    const answer = await call(`${b.example.url}/api/private`, { token: b.token });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ sub: 'orders-app@clients' });
    expect(b.issuer.counts.discovery).toBe(0);
  });

  it('starts the built-in downstream service, trusting the same issuer for DOWNSTREAM_AUDIENCE, and calls it', async () => {
    expect(b.example.output.stdout).toMatch(/Downstream service:\s+http:\/\/127\.0\.0\.1:\d+\/inventory/);
    const answer = await call(`${b.example.url}/api/downstream`, { token: b.token });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ service: 'inventory', caller: 'orders-api@clients' });
  });

  it('authenticated at TOKEN_ENDPOINT with client_secret_post (secret in the body, no Basic header)', () => {
    const request = b.issuer.tokenRequests.find((r) => r.params.audience === DOWNSTREAM_AUDIENCE);
    expect(request).toBeDefined();
    expect(request?.params).toMatchObject({ grant_type: 'client_credentials', client_id: 'orders-api', client_secret: expect.any(String) });
    expect(request?.headers.authorization).toBeUndefined();
  });
});

describe('GET /api/downstream when no token can be had: 503/502 with a JSON error, never a 500', () => {
  it('token endpoint unreachable: 503 temporarily_unavailable with Retry-After', async () => {
    const answer = await call(`${unreachable.example.url}/api/downstream`, { token: unreachable.token });
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('token endpoint answering 500: 503 temporarily_unavailable', async () => {
    const answer = await call(`${failing.example.url}/api/downstream`, { token: failing.token });
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
  });

  it('client credentials refused (wrong CLIENT_SECRET): 502 bad_gateway naming invalid_client; the secret is never shown', async () => {
    const answer = await call(`${wrongSecret.example.url}/api/downstream`, { token: wrongSecret.token });
    expect(answer.status).toBe(502);
    expect(answer.body).toEqual({ error: 'bad_gateway', error_description: expect.stringContaining('invalid_client') });
    const { stdout, stderr } = wrongSecret.example.output;
    expect(answer.text + stdout + stderr).not.toContain('definitely-the-wrong-secret');
  });

  it('no outbound variables set: 503 downstream_not_configured naming the variables to set', async () => {
    const answer = await call(`${inboundOnly.example.url}/api/downstream`, { token: inboundOnly.token });
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({ error: 'downstream_not_configured', error_description: expect.stringContaining('CLIENT_ID') });
    const privateAnswer = await call(`${inboundOnly.example.url}/api/private`, { token: inboundOnly.token });
    expect(privateAnswer.status).toBe(200);
  });
});

describe('An issuer that cannot be reached: the example starts, warns, and answers 503 (never a 500)', () => {
  it('starts and warns on stderr that the keys could not be fetched yet', () => {
    expect(issuerDown.example.output.stdout).toContain('listening on');
    expect(issuerDown.example.output.stderr).toContain('could not fetch the issuer\'s keys yet');
  });

  it('a request with a token gets 503 JSON with Retry-After; one without a token still gets the 401', async () => {
    const answer = await call(`${issuerDown.example.url}/api/private`, { token: issuerDown.token });
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await call(`${issuerDown.example.url}/api/private`)).status).toBe(401);
    expect((await call(`${issuerDown.example.url}/api/public`)).status).toBe(200);
  });
});

describe('SIGINT: the example stops cleanly', () => {
  it('exits with code 0 on Ctrl+C', async () => {
    const stopped = new Promise<number | null>((resolve) => inboundOnly.example.child.once('exit', (code) => resolve(code)));
    inboundOnly.example.child.kill('SIGINT');
    expect(await stopped).toBe(0);
    expect(inboundOnly.example.output.stdout).toContain('SIGINT received');
  });
});
