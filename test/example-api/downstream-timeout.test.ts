/**
 * `createApp()` in-process (the same app `npm start` serves): a downstream that never answers gets
 * a 504 after the call's timeout, not a hanging request or a 500. Run in-process so the timeout can
 * be short; the rest of the example is tested as a child process.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { createApp, type ExampleApp } from '../../example-api/src/app.js';
import { listen, type Listening } from '../../example-api/src/http.js';
import { call } from './support.js';

const AUDIENCE = 'https://api.timeout.test';
const DOWNSTREAM_AUDIENCE = 'https://down.timeout.test';

let issuer: LocalIssuer;
let hanging: Server;
let api: ExampleApp;
let server: Listening;
const logged: string[] = [];

beforeAll(async () => {
  issuer = await createLocalIssuer();
  const service = issuer.registerClient({ clientId: 'svc', audiences: [DOWNSTREAM_AUDIENCE] });
  hanging = createServer(() => undefined); // accepts requests, never answers
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  const { port } = hanging.address() as AddressInfo;
  api = createApp({
    auth: { issuerBaseURL: issuer.url, audience: AUDIENCE },
    downstream: {
      url: `http://127.0.0.1:${port}/slow?x=1`,
      client: { tokenEndpoint: issuer.tokenEndpoint, clientId: service.clientId, clientSecret: service.clientSecret as string, audience: DOWNSTREAM_AUDIENCE },
      timeoutDuration: 300,
    },
    log: (line) => logged.push(line),
  });
  server = await listen(api.app, 0, '127.0.0.1');
});

afterAll(async () => {
  hanging?.closeAllConnections();
  await Promise.all([
    server?.close(0),
    api?.close(),
    new Promise<void>((resolve) => (hanging ? hanging.close(() => resolve()) : resolve())),
    issuer?.close(),
  ]);
});

describe('GET /api/downstream: a downstream that does not answer in time gets 504 gateway_timeout', () => {
  it('answers 504 JSON after the timeout, and the API keeps answering', async () => {
    const token = await issuer.accessToken({ clientId: 'caller', audience: AUDIENCE });
    const answer = await call(`${server.url}/api/downstream`, { token });
    expect(answer.status).toBe(504);
    expect(answer.body).toEqual({ error: 'gateway_timeout', error_description: 'the downstream service did not answer in time' });
    expect((await call(`${server.url}/api/public`)).status).toBe(200);
    expect(logged.join('\n')).not.toContain(token);
  });
});
