/**
 * The routes and errors the issue promises, as one set of `describe` blocks that both modes
 * (embedded issuer, configured by env) run against a real example process.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { call, rawRequest, tamper } from './support.js';

/** What the contract needs from a mode. */
export interface ContractContext {
  /** Base URL of the running example API. */
  url: string;
  /** A token with `read:orders write:orders` for the API's audience. */
  fullToken: string;
  /** A token with only `read:orders`. */
  readOnlyToken: string;
  /** The `sub` of both tokens. */
  sub: string;
  /** A well-formed token the API must not trust (other issuer, other audience, expired...), with a label. */
  untrustedTokens: Array<{ label: string; token: string }>;
}

function expectJsonError(answer: { status: number; headers: Headers; body: unknown }, status: number, error: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(answer.body).toEqual({ error, error_description: expect.any(String) });
  expect((answer.body as { error_description: string }).error_description.length).toBeGreaterThan(0);
}

/** Registers the contract's describe blocks; `ctx()` is read inside the tests (after beforeAll). */
export function describeApiContract(ctx: () => ContractContext): void {
  describe('GET /api/public: 200 without a token', () => {
    it('answers 200 JSON with no Authorization header', async () => {
      const answer = await call(`${ctx().url}/api/public`);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.body).toEqual({ message: expect.any(String) });
    });

    it('answers 200 even with a bad token (the route does not look at it)', async () => {
      const answer = await call(`${ctx().url}/api/public`, { token: 'garbage' });
      expect(answer.status).toBe(200);
    });
  });

  describe('GET /api/private: 200 for any valid token, with sub and scopes', () => {
    it('answers with the token\'s sub and scopes', async () => {
      const answer = await call(`${ctx().url}/api/private`, { token: ctx().fullToken });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ sub: ctx().sub, scopes: ['read:orders', 'write:orders'] });
    });

    it('accepts a token with fewer scopes', async () => {
      const answer = await call(`${ctx().url}/api/private`, { token: ctx().readOnlyToken });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ sub: ctx().sub, scopes: ['read:orders'] });
    });

    it('matches the Bearer scheme case-insensitively (RFC 7235 section 2.1)', async () => {
      const answer = await call(`${ctx().url}/api/private`, { authorization: `bearer ${ctx().fullToken}` });
      expect(answer.status).toBe(200);
    });
  });

  describe('RFC 6750 section 3.1: a request without a token gets 401 and a bare WWW-Authenticate: Bearer', () => {
    for (const path of ['/api/private', '/api/orders', '/api/downstream']) {
      it(`GET ${path} without Authorization`, async () => {
        const answer = await call(`${ctx().url}${path}`);
        expectJsonError(answer, 401, 'unauthorized');
        expect(answer.headers.get('www-authenticate')).toBe('Bearer');
      });
    }

    it('POST /api/orders without Authorization, even with a malformed body, is a 401 (the body is not read)', async () => {
      const answer = await call(`${ctx().url}/api/orders`, { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } });
      expectJsonError(answer, 401, 'unauthorized');
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('an Authorization header of another scheme (Basic) counts as no token', async () => {
      const answer = await call(`${ctx().url}/api/private`, { authorization: 'Basic dXNlcjpwYXNz' });
      expectJsonError(answer, 401, 'unauthorized');
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    });
  });

  describe('RFC 6750 section 3.1: a malformed request gets 400 invalid_request', () => {
    const cases: Array<[string, string]> = [
      ['empty Bearer credentials', 'Bearer '],
      ['two tokens', 'Bearer abc def'],
      ['a token with characters outside b64token', 'Bearer abc"def'],
    ];
    for (const [label, authorization] of cases) {
      it(label, async () => {
        const answer = await call(`${ctx().url}/api/private`, { authorization });
        expectJsonError(answer, 400, 'invalid_request');
        expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_request"/);
      });
    }

    it('two Authorization header lines', async () => {
      const answer = await rawRequest(`${ctx().url}/api/private`, [
        'Authorization', `Bearer ${ctx().fullToken}`,
        'Authorization', `Bearer ${ctx().fullToken}`,
      ]);
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.text)).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    });
  });

  describe('RFC 6750 section 3.1: a bad token gets 401 invalid_token', () => {
    const garbage: Array<[string, () => string]> = [
      ['not a JWT', () => 'not-a-jwt'],
      ['a JWT with a changed signature', () => tamper(ctx().fullToken)],
      ['a JWT with a changed payload', () => {
        const [header, , signature] = ctx().fullToken.split('.');
        const payload = Buffer.from(JSON.stringify({ sub: 'attacker', scope: 'read:orders write:orders' })).toString('base64url');
        return `${header}.${payload}.${signature}`;
      }],
      ['an unsigned JWT (alg none)', () => {
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        return `${header}.${ctx().fullToken.split('.')[1]}.`;
      }],
      ['10 KB of b64token characters', () => 'a'.repeat(10_000)],
    ];
    for (const [label, token] of garbage) {
      it(label, async () => {
        const answer = await call(`${ctx().url}/api/private`, { token: token() });
        expectJsonError(answer, 401, 'invalid_token');
        expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
        expect(answer.text).not.toContain(ctx().fullToken);
      });
    }

    it('well-formed tokens the API must not trust', async () => {
      for (const { label, token } of ctx().untrustedTokens) {
        const answer = await call(`${ctx().url}/api/private`, { token });
        expect({ label, status: answer.status, body: answer.body }).toEqual({
          label,
          status: 401,
          body: { error: 'invalid_token', error_description: expect.any(String) },
        });
      }
    });
  });

  describe('Scopes: GET /api/orders needs read:orders, POST /api/orders needs write:orders (403 insufficient_scope)', () => {
    it('GET /api/orders with read:orders: 200 with the orders', async () => {
      const answer = await call(`${ctx().url}/api/orders`, { token: ctx().readOnlyToken });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ orders: expect.any(Array) });
    });

    it('POST /api/orders with write:orders: 201 with the order, created by the token\'s sub', async () => {
      const answer = await call(`${ctx().url}/api/orders`, { method: 'POST', token: ctx().fullToken, json: { item: 'sprocket', quantity: 4 } });
      expect(answer.status).toBe(201);
      const order = (answer.body as { order: { id: string } }).order;
      expect(order).toMatchObject({ item: 'sprocket', quantity: 4, createdBy: ctx().sub, id: expect.any(String) });
      expect(answer.headers.get('location')).toBe(`/api/orders/${order.id}`);
      const list = await call(`${ctx().url}/api/orders`, { token: ctx().fullToken });
      expect((list.body as { orders: Array<{ id: string }> }).orders.map((o) => o.id)).toContain(order.id);
    });

    it('POST /api/orders without write:orders: 403 insufficient_scope with scope="write:orders"', async () => {
      const answer = await call(`${ctx().url}/api/orders`, { method: 'POST', token: ctx().readOnlyToken, json: { item: 'sprocket', quantity: 1 } });
      expectJsonError(answer, 403, 'insufficient_scope');
      const challenge = answer.headers.get('www-authenticate') ?? '';
      expect(challenge).toMatch(/^Bearer error="insufficient_scope"/);
      expect(challenge).toContain('scope="write:orders"');
    });
  });

  describe('Never a 500 for what a client sends: POST /api/orders bodies', () => {
    it('malformed JSON: 400 invalid_json', async () => {
      const answer = await call(`${ctx().url}/api/orders`, {
        method: 'POST', token: ctx().fullToken, body: '{"item": "widget", "quantity": ', headers: { 'content-type': 'application/json' },
      });
      expectJsonError(answer, 400, 'invalid_json');
    });

    const invalid: Array<[string, unknown]> = [
      ['a JSON array', [1, 2]],
      ['a missing item', { quantity: 1 }],
      ['a non-integer quantity', { item: 'widget', quantity: 1.5 }],
      ['a quantity as a string', { item: 'widget', quantity: '2' }],
      ['a __proto__ key', JSON.parse('{"__proto__": {"item": "x"}, "quantity": 1}')],
    ];
    for (const [label, json] of invalid) {
      it(`${label}: 400 invalid_order`, async () => {
        const answer = await call(`${ctx().url}/api/orders`, { method: 'POST', token: ctx().fullToken, json });
        expectJsonError(answer, 400, 'invalid_order');
      });
    }

    it('valid JSON that is not an object (string, number, null): 400 invalid_order, not "invalid JSON"', async () => {
      for (const body of ['"widget"', '42', 'null']) {
        const answer = await call(`${ctx().url}/api/orders`, {
          method: 'POST', token: ctx().fullToken, body, headers: { 'content-type': 'application/json' },
        });
        expectJsonError(answer, 400, 'invalid_order');
        expect(JSON.stringify(answer.body)).toContain('must be a JSON object');
      }
    });

    it('no body or a non-JSON content type: 400 invalid_order', async () => {
      const none = await call(`${ctx().url}/api/orders`, { method: 'POST', token: ctx().fullToken });
      expectJsonError(none, 400, 'invalid_order');
      const text = await call(`${ctx().url}/api/orders`, {
        method: 'POST', token: ctx().fullToken, body: 'item=widget', headers: { 'content-type': 'text/plain' },
      });
      expectJsonError(text, 400, 'invalid_order');
    });

    it('a body over 16 KB: 413 payload_too_large', async () => {
      const answer = await call(`${ctx().url}/api/orders`, {
        method: 'POST', token: ctx().fullToken, json: { item: 'w', quantity: 1, padding: 'x'.repeat(20_000) },
      });
      expectJsonError(answer, 413, 'payload_too_large');
    });

    it('an unsupported Content-Encoding: 415', async () => {
      const answer = await call(`${ctx().url}/api/orders`, {
        method: 'POST', token: ctx().fullToken, body: '{}', headers: { 'content-type': 'application/json', 'content-encoding': 'zstd-bogus' },
      });
      expect(answer.status).toBe(415);
      expect(answer.body).toEqual({ error: expect.any(String), error_description: expect.any(String) });
    });
  });

  describe('Never a 500 for what a client sends: routes, methods, headers', () => {
    it('an unknown route: JSON 404', async () => {
      const answer = await call(`${ctx().url}/api/nope`, { token: ctx().fullToken });
      expectJsonError(answer, 404, 'not_found');
    });

    it('a malformed percent-encoding in the path: the JSON 404 of an unknown route', async () => {
      // No route has parameters to decode, so the path is never decoded: it names no route, and
      // is answered like any unknown route (not a 400 from a failed decode, never a 500).
      const answer = await rawRequest(`${ctx().url}/api/%E0%A4%A`, []);
      expect(answer.status).toBe(404);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(answer.text)).toEqual({ error: 'not_found', error_description: expect.any(String) });
    });

    it('a known route with another method: JSON 405 with Allow', async () => {
      const answer = await call(`${ctx().url}/api/orders`, { method: 'DELETE', token: ctx().fullToken });
      expectJsonError(answer, 405, 'method_not_allowed');
      expect(answer.headers.get('allow')).toBe('GET, POST, HEAD');
    });

    it('headers over 16 KB: JSON 431', async () => {
      const answer = await rawRequest(`${ctx().url}/api/public`, ['X-Padding', 'p'.repeat(20_000)]);
      expect(answer.status).toBe(431);
      expect(JSON.parse(answer.text)).toEqual({ error: 'request_header_fields_too_large', error_description: expect.any(String) });
    });

    it('an Authorization header near the header limit: 401 invalid_token', async () => {
      const answer = await call(`${ctx().url}/api/private`, { token: `${'a'.repeat(7000)}.${'b'.repeat(7000)}.c` });
      expectJsonError(answer, 401, 'invalid_token');
    });

    it('a request that is not HTTP: a 400 and the connection closed, and the server still answers', async () => {
      const { port, hostname } = new URL(ctx().url);
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => socket.end('HELLO THERE\r\n\r\n'));
        let data = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          data += chunk;
        });
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      expect(reply).toMatch(/^HTTP\/1\.1 400 /);
      expect((await call(`${ctx().url}/api/public`)).status).toBe(200);
    });
  });
}

/**
 * A downstream service for the env-mode tests whose behaviour a test switches at run time. It
 * records the Authorization header of each request (the test process owns it; nothing is logged).
 */
export interface TestDownstream {
  url: string;
  mode: 'json' | 'not-found' | 'text' | 'destroy' | 'server-error';
  received: Array<{ path: string; authorization: string | undefined }>;
  close(): Promise<void>;
}

/** Starts a {@link TestDownstream} on 127.0.0.1. */
export async function startTestDownstream(): Promise<TestDownstream> {
  const state: Omit<TestDownstream, 'url' | 'close'> = { mode: 'json', received: [] };
  const server: Server = createServer((req, res) => {
    state.received.push({ path: req.url ?? '', authorization: req.headers.authorization });
    switch (state.mode) {
      case 'json':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ from: 'test-downstream', ok: true }));
        return;
      case 'not-found':
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'no_such_thing' }));
        return;
      case 'server-error':
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'boom' }));
        return;
      case 'text':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not json</html>');
        return;
      case 'destroy':
        req.socket.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const downstream = state as TestDownstream;
  downstream.url = `http://127.0.0.1:${port}/stock`;
  downstream.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return downstream;
}
