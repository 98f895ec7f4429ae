import { connect } from 'node:net';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';

describe('local issuer: discovery documents (OIDC Discovery / RFC 8414)', () => {
  let issuer: LocalIssuer;
  beforeAll(async () => {
    issuer = await createLocalIssuer();
  });
  afterAll(() => issuer.close());

  it('listens on 127.0.0.1 with an ephemeral port and exposes Auth0-shaped URLs', () => {
    expect(issuer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(issuer.issuer).toBe(`${issuer.url}/`);
    expect(issuer.jwksUri).toBe(`${issuer.url}/.well-known/jwks.json`);
    expect(issuer.tokenEndpoint).toBe(`${issuer.url}/oauth/token`);
  });

  it.each(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'])('serves %s', async (path) => {
    const response = await fetch(`${issuer.url}${path}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: issuer.issuer,
      jwks_uri: issuer.jwksUri,
      token_endpoint: issuer.tokenEndpoint,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    });
    expect(metadata.token_endpoint_auth_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256', 'ES256', 'EdDSA']));
  });
});

describe('local issuer: sign() mints tokens verifiable against the served JWKS', () => {
  let issuer: LocalIssuer;
  beforeAll(async () => {
    issuer = await createLocalIssuer();
  });
  afterAll(() => issuer.close());

  it('fills iss, iat, exp, jti and the header alg, kid, typ', async () => {
    const token = await issuer.sign({ sub: 'svc@clients', aud: 'https://api' });
    const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(issuer.jwksUri)), {
      issuer: issuer.issuer,
      audience: 'https://api',
    });
    expect(protectedHeader).toEqual({ alg: 'RS256', kid: issuer.currentKid(), typ: 'at+jwt' });
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(typeof payload.jti).toBe('string');
  });

  it('counts JWKS requests', async () => {
    issuer.resetCounts();
    await fetch(issuer.jwksUri);
    await fetch(issuer.jwksUri);
    expect(issuer.counts).toEqual({ discovery: 0, jwks: 2, token: 0, introspection: 0 });
  });

  it('signs with ES256 and EdDSA keys on request and serves them', async () => {
    for (const alg of ['ES256', 'EdDSA']) {
      const token = await issuer.sign({ aud: 'a' }, { alg });
      expect(decodeProtectedHeader(token).alg).toBe(alg);
      await expect(jwtVerify(token, createRemoteJWKSet(new URL(issuer.jwksUri)))).resolves.toBeDefined();
    }
  });
});

describe('local issuer: faults on the JWKS endpoint', () => {
  let issuer: LocalIssuer;
  beforeAll(async () => {
    issuer = await createLocalIssuer();
  });
  afterAll(() => issuer.close());

  it('answers 500 for the next request only, and counts it', async () => {
    issuer.resetCounts();
    issuer.setFault('jwks', { status: 500, times: 1 });
    expect((await fetch(issuer.jwksUri)).status).toBe(500);
    expect((await fetch(issuer.jwksUri)).status).toBe(200);
    expect(issuer.counts.jwks).toBe(2);
  });

  it('close() ends a hanging connection', async () => {
    const other = await createLocalIssuer();
    other.setFault('jwks', { hang: true });
    const pending = fetch(other.jwksUri).then(
      () => 'answered',
      () => 'dropped',
    );
    while (other.counts.jwks === 0) await new Promise((resolve) => setImmediate(resolve));
    await other.close();
    await expect(pending).resolves.toBe('dropped');
  });
});

describe('local issuer: never crashes on what a client sends', () => {
  let issuer: LocalIssuer;
  beforeAll(async () => {
    issuer = await createLocalIssuer();
  });
  afterAll(() => issuer.close());

  it('survives a client that sends half a body and disconnects, and malformed HTTP', async () => {
    const { port } = issuer;
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"grant_');
        socket.destroy();
        resolve();
      });
    });
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.end('NOT HTTP AT ALL\r\n\r\n'));
      socket.on('data', () => undefined);
      socket.on('close', () => resolve());
    });
    expect((await fetch(issuer.jwksUri)).status).toBe(200);
  });

  it('rejects with EADDRINUSE when the port is taken', async () => {
    await expect(createLocalIssuer({ port: issuer.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
