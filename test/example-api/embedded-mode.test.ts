/**
 * The example API with no issuer configured, run as `npm start` runs it (a child process with
 * PORT=0), tested as a black box over HTTP: it starts its own local issuer and downstream service,
 * prints a demo client and curl commands, and answers every route and error of the issue.
 */
import { spawnSync } from 'node:child_process';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { describeApiContract, type ContractContext } from './api-contract.js';
import { readDoc, section as docSection } from '../docs-support.js';
import { call, claimsOf, fetchToken, printed, startExampleProcess, type ExampleProcess } from './support.js';

let example: ExampleProcess;
let foreign: LocalIssuer;
let context: ContractContext;
let clientId: string;
let clientSecret: string;
let tokenEndpoint: string;
let audience: string;

beforeAll(async () => {
  [example, foreign] = await Promise.all([startExampleProcess({ PORT: '0' }), createLocalIssuer()]);
  const stdout = example.output.stdout;
  clientId = printed(stdout, 'CLIENT_ID');
  clientSecret = printed(stdout, 'CLIENT_SECRET');
  tokenEndpoint = printed(stdout, 'TOKEN_ENDPOINT');
  audience = printed(stdout, 'AUDIENCE');
  const client = { clientId, clientSecret };
  const [fullToken, readOnlyToken] = await Promise.all([
    fetchToken(tokenEndpoint, client, { audience }),
    fetchToken(tokenEndpoint, client, { audience, scope: 'read:orders' }),
  ]);
  const embeddedIss = claimsOf(fullToken).iss as string;
  context = {
    url: example.url,
    fullToken,
    readOnlyToken,
    sub: `${clientId}@clients`,
    untrustedTokens: [
      {
        label: 'signed by another issuer\'s key, claiming the embedded issuer',
        token: await foreign.sign({ iss: embeddedIss, sub: `${clientId}@clients`, aud: audience, scope: 'read:orders' }),
      },
      {
        label: 'from another issuer',
        token: await foreign.accessToken({ clientId, audience, scope: 'read:orders write:orders' }),
      },
    ],
  };
}, 120_000);

afterAll(async () => {
  await Promise.all([example?.stop(), foreign?.close()]);
});

describe('npm start with no issuer configured: what it prints', () => {
  it('prints the URL with the real port when PORT=0, and that URL answers', async () => {
    const { port } = new URL(example.url);
    expect(Number(port)).toBeGreaterThan(0);
    expect(example.output.stdout).toContain(`listening on ${example.url}`);
    expect((await call(`${example.url}/api/public`)).status).toBe(200);
  });

  it('prints the demo client, whose credentials get a token with read:orders and write:orders for the API audience', () => {
    expect(clientId).toBe('demo-client');
    expect(clientSecret.length).toBeGreaterThanOrEqual(16);
    const claims = claimsOf(context.fullToken);
    expect(claims).toMatchObject({ aud: audience, sub: 'demo-client@clients', scope: 'read:orders write:orders', gty: 'client-credentials' });
  });

  it('prints a curl that gets a token and curls that call the API, which work as pasted into a shell', () => {
    const lines = example.output.stdout.split('\n').map((line) => line.trim());
    const getToken = lines.find((line) => line.startsWith('TOKEN=$(curl'));
    const callOrders = lines.find((line) => line.startsWith('curl') && line.includes('Bearer $TOKEN') && line.endsWith('/api/orders') && !line.includes(' -d '));
    const postOrder = lines.find((line) => line.startsWith('curl') && line.includes(' -d ') && line.endsWith('/api/orders'));
    const downstream = lines.find((line) => line.startsWith('curl') && line.endsWith('/api/downstream'));
    const downstreamDpop = lines.find((line) => line.startsWith('curl') && line.endsWith('/api/downstream-dpop'));
    expect([getToken, callOrders, postOrder, downstream, downstreamDpop]).not.toContain(undefined);
    const script = [getToken, `echo "$TOKEN" | cut -c1-3`, callOrders, 'echo', postOrder, 'echo', downstream, 'echo', downstreamDpop].join('\n');
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(0);
    const [tokenStart, orders, created, inventory, inventoryDpop] = run.stdout.trim().split('\n');
    expect(tokenStart).toBe('eyJ');
    expect(JSON.parse(orders ?? '')).toEqual({ orders: expect.any(Array) });
    expect(JSON.parse(created ?? '')).toMatchObject({ order: { item: 'widget', quantity: 2, createdBy: 'demo-client@clients' } });
    expect(JSON.parse(inventory ?? '')).toMatchObject({ service: 'inventory' });
    expect(JSON.parse(inventoryDpop ?? '')).toMatchObject({ service: 'inventory-dpop', scheme: 'DPoP' });
  });

  it('prints a ready-to-paste npm run demo line with this run\'s values', () => {
    expect(example.output.stdout).toContain(
      `API_URL=${example.url} TOKEN_ENDPOINT=${tokenEndpoint} CLIENT_ID=${clientId} CLIENT_SECRET=${clientSecret} AUDIENCE=${audience} ` +
        `DPOP_DOWNSTREAM_URL=${/^DPoP-only downstream: +(\S+) /m.exec(example.output.stdout)?.[1]} DOWNSTREAM_AUDIENCE=https://downstream.example.com npm run demo`,
    );
    expect(example.output.stdout).toMatch(/^DPoP-only downstream: +http:\/\/127\.0\.0\.1:\d+\/inventory-dpop \(RFC 9449/m);
  });
});

describe('docs/example-api.md "Try it with curl": the commands work as written with the printed values', () => {
  it('gets tokens and gets the answers the guide describes', () => {
    const section = docSection(readDoc('docs/example-api.md'), 'Try it with curl');
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBeDefined();
    const values: Record<string, string> = {
      API: example.url, CLIENT_ID: clientId, CLIENT_SECRET: clientSecret, AUDIENCE: audience, TOKEN_ENDPOINT: tokenEndpoint,
    };
    // Replace the guide's placeholder assignments with this run's printed values; keep every other line as written.
    let script = block as string;
    for (const [name, value] of Object.entries(values)) {
      const assignment = new RegExp(`^${name}=.*$`, 'm');
      expect(script).toMatch(assignment);
      script = script.replace(assignment, `${name}='${value}'`);
    }
    const run = spawnSync('bash', ['-e', '-c', script.replace(/^curl /gm, 'echo; curl ')], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(0);
    const output = run.stdout;
    expect(output).toContain('{"message":"Hello from a public endpoint!');
    expect(output).toContain('"sub":"demo-client@clients","scopes":["read:orders","write:orders"]');
    expect(output).toMatch(/\{"orders":\[/);
    expect(output).toMatch(/\{"order":\{"id":"ord_\d+","item":"widget","quantity":2/);
    expect(output).toContain('"service":"inventory"');
    expect(output).toMatch(/HTTP\/1\.1 403 Forbidden[\s\S]*scope="write:orders"/);
    expect(output).toMatch(/HTTP\/1\.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\n/);
    expect(output).toMatch(/HTTP\/1\.1 401 Unauthorized\r\nWWW-Authenticate: Bearer error="invalid_token"/);
  });
});

describeApiContract(() => context);

describe('GET /api/downstream: calls the built-in downstream service with the API\'s own client-credentials token', () => {
  it('answers with the downstream\'s status and JSON body; the downstream saw the API\'s client, not the caller', async () => {
    const answer = await call(`${example.url}/api/downstream`, { token: context.fullToken });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ service: 'inventory', caller: 'example-api@clients', scopes: ['read:inventory'] });
  });

  it('needs a valid token from the caller', async () => {
    const answer = await call(`${example.url}/api/downstream`, { token: 'not-a-jwt' });
    expect(answer.status).toBe(401);
  });
});

describe('GET /health: the keys and the outbound token, public, without a secret', () => {
  it('answers 200 with the issuer\'s keys fresh and the downstream token present; no secret or token in it', async () => {
    await call(`${example.url}/api/downstream`, { token: context.fullToken });
    const answer = await call(`${example.url}/health`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toMatchObject({
      status: 'ok',
      auth: { status: 'ok', issuers: [{ keys: { source: 'jwks', state: 'fresh' } }] },
      outbound: { status: 'ok', clientId: 'example-api', tokenPresent: true, latched: false, sharedCache: 'memory' },
    });
    const text = JSON.stringify(answer.body);
    for (const hidden of [clientSecret, context.fullToken, context.fullToken.split('.')[2] as string]) expect(text).not.toContain(hidden);
    expect(text).not.toMatch(/secret/i);
    expect((await call(`${example.url}/health`, { method: 'POST' })).status).toBe(405);
  });
});

describe('Logs: no token is ever printed', () => {
  it('stdout and stderr hold none of the tokens used', () => {
    const output = example.output.stdout + example.output.stderr;
    for (const token of [context.fullToken, context.readOnlyToken]) {
      expect(output).not.toContain(token);
      expect(output).not.toContain(token.split('.')[2]);
    }
  });
});

describe('SIGTERM: the example stops cleanly', () => {
  it('exits with code 0 after closing its servers, and its port is free', async () => {
    const finished = await example.stop();
    expect(finished).toMatchObject({ code: 0, signal: null });
    expect(finished.stdout).toContain('SIGTERM received');
    expect(finished.stdout).toContain('stopped');
    await expect(call(`${example.url}/api/public`)).rejects.toThrow();
  });
});
