/**
 * Fault injection (README promise: other test suites can make the issuer misbehave the way real
 * authorization servers do) and hit counters.
 */
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer, LocalIssuerEndpoint } from 'express-m2m/testing';

let issuer: LocalIssuer;

beforeAll(async () => {
  issuer = await createLocalIssuer({ clients: [{ clientId: 'svc', clientSecret: 'secret', audiences: ['https://api'] }] });
});
afterAll(() => issuer.close());
beforeEach(() => {
  issuer.clearFaults();
  issuer.resetCounts();
});

const tokenBody = 'grant_type=client_credentials&client_id=svc&client_secret=secret';

function call(endpoint: LocalIssuerEndpoint, signal?: AbortSignal): Promise<Response> {
  if (endpoint === 'introspection') {
    return fetch(issuer.introspectionEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=abc&client_id=svc&client_secret=secret',
      signal,
    });
  }
  if (endpoint === 'token') {
    return fetch(issuer.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: tokenBody,
      signal,
    });
  }
  return fetch(endpoint === 'jwks' ? issuer.jwksUri : issuer.discoveryUri, { signal });
}

const endpoints: LocalIssuerEndpoint[] = ['discovery', 'jwks', 'token', 'introspection'];

describe.each(endpoints)('faults on the %s endpoint', (endpoint) => {
  it('answers a status with a JSON error body by default (500), and counts the request', async () => {
    issuer.setFault(endpoint, { status: 500 });
    const response = await call(endpoint);
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: 'server_error' });
    expect(issuer.counts[endpoint]).toBe(1);
  });

  it('answers 200 text/html garbage for html', async () => {
    issuer.setFault(endpoint, { html: true });
    const response = await call(endpoint);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    await expect(response.clone().json()).rejects.toThrow();
    expect(await response.text()).toContain('<html>');
  });

  it('answers a given garbage body with 200', async () => {
    issuer.setFault(endpoint, { body: '{"keys": [' });
    const response = await call(endpoint);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('{"keys": [');
  });

  it('drops the connection for destroy', async () => {
    issuer.setFault(endpoint, { destroy: true });
    await expect(call(endpoint)).rejects.toThrow();
    expect(issuer.counts[endpoint]).toBe(1);
  });

  it('never answers for hang (the client times out), and still counts', async () => {
    issuer.setFault(endpoint, { hang: true });
    await expect(call(endpoint, AbortSignal.timeout(150))).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(issuer.counts[endpoint]).toBe(1);
  });

  it('answers normally, later, for delay alone', async () => {
    issuer.setFault(endpoint, { delay: 30 });
    const response = await call(endpoint);
    expect(response.status).toBe(200);
  });

  it('adds headers to the normal answer for headers alone', async () => {
    issuer.setFault(endpoint, { headers: { 'Cache-Control': 'max-age=5', 'X-Fault': 'yes' } });
    const response = await call(endpoint);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('max-age=5');
    expect(response.headers.get('x-fault')).toBe('yes');
  });

  it('applies to the next `times` requests only, then clears', async () => {
    issuer.setFault(endpoint, { status: 503, times: 2 });
    expect((await call(endpoint)).status).toBe(503);
    expect((await call(endpoint)).status).toBe(503);
    expect((await call(endpoint)).status).toBe(200);
    expect(issuer.counts[endpoint]).toBe(3);
  });

  it('is cleared by setFault(endpoint, null)', async () => {
    issuer.setFault(endpoint, { status: 500 });
    issuer.setFault(endpoint, null);
    expect((await call(endpoint)).status).toBe(200);
  });
});

describe('token endpoint faults that clients must handle', () => {
  it('429 with Retry-After', async () => {
    issuer.setFault('token', { status: 429, headers: { 'Retry-After': '2' } });
    const response = await call('token');
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(await response.json()).toMatchObject({ error: 'temporarily_unavailable' });
  });

  it('invalid_client as a JSON body with a status', async () => {
    issuer.setFault('token', { status: 401, body: JSON.stringify({ error: 'invalid_client' }) });
    const response = await call('token');
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ error: 'invalid_client' });
  });

  it('records the token request even when faulted', async () => {
    issuer.setFault('token', { status: 500 });
    await call('token');
    expect(issuer.lastTokenRequest?.body).toBe(tokenBody);
    expect(issuer.tokenRequests).toHaveLength(1);
  });
});

describe('counters', () => {
  it('counts both discovery documents, the JWKS and the token endpoint separately; resetCounts zeroes them', async () => {
    await fetch(`${issuer.url}/.well-known/openid-configuration`);
    await fetch(`${issuer.url}/.well-known/oauth-authorization-server`);
    await call('jwks');
    await call('token');
    await fetch(`${issuer.url}/unknown`);
    expect(issuer.counts).toEqual({ discovery: 2, jwks: 1, token: 1, introspection: 0 });
    issuer.resetCounts();
    expect(issuer.counts).toEqual({ discovery: 0, jwks: 0, token: 0, introspection: 0 });
    expect(issuer.lastTokenRequest).toBeUndefined();
  });
});

describe('setFault validation', () => {
  it('names the bad option', () => {
    expect(() => issuer.setFault('jwks', { status: 42 })).toThrow(/"status"/);
    expect(() => issuer.setFault('jwks', { times: 0 })).toThrow(/"times"/);
    expect(() => issuer.setFault('jwks', { delay: -1 })).toThrow(/"delay"/);
    expect(() => issuer.setFault('nope' as LocalIssuerEndpoint, { status: 500 })).toThrow(/"endpoint"/);
  });
});

describe('close()', () => {
  it('resolves with hanging connections open on every endpoint, and is idempotent', async () => {
    const other = await createLocalIssuer();
    for (const endpoint of endpoints) other.setFault(endpoint, { hang: true });
    const pending = [
      fetch(other.jwksUri),
      fetch(other.discoveryUri),
      fetch(other.tokenEndpoint, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } }),
    ].map((request) => request.then(() => 'answered', () => 'dropped'));
    while (other.counts.jwks + other.counts.discovery + other.counts.token < 3) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    await other.close();
    await other.close();
    expect(await Promise.all(pending)).toEqual(['dropped', 'dropped', 'dropped']);
  });

  it('resolves while a delayed answer is pending', async () => {
    const other = await createLocalIssuer();
    other.setFault('jwks', { delay: 60_000 });
    const pending = fetch(other.jwksUri).then(() => 'answered', () => 'dropped');
    while (other.counts.jwks === 0) await new Promise((resolve) => setImmediate(resolve));
    await other.close();
    expect(await pending).toBe('dropped');
  });
});
