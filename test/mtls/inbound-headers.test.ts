/**
 * The client certificate forwarded by a TLS-terminating proxy, in the one header the API names:
 * RFC 9440 `Client-Cert`, nginx's `$ssl_client_escaped_cert`, Envoy's `X-Forwarded-Client-Cert`,
 * or the user's function. Valid values bind; malformed ones are a 401, never a crash; a header
 * that is not configured is never read.
 */
import express from 'express';
import request from 'supertest';
import { authErrorHandler, createAuthenticator, requireAuth, type RequireAuthEvent, type RequireAuthOptions } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { AUDIENCE, listen, rawGet } from '../express/support.js';
import { clientCertHeader, escapedPem, makePki, type Pki } from './support.js';

let issuer: LocalIssuer;
let pki: Pki;
let token: string;
beforeAll(async () => {
  issuer = await createLocalIssuer();
  pki = makePki();
  token = await issuer.accessToken({ audience: AUDIENCE, clientId: 'orders', claims: { cnf: { 'x5t#S256': pki.client.thumbprint } } });
});
afterAll(async () => {
  await issuer.close();
});
const middlewares: Array<{ close(): void }> = [];
afterAll(() => {
  for (const middleware of middlewares) middleware.close();
});

function api(mtls: RequireAuthOptions['mtls'], events: RequireAuthEvent[] = []) {
  const auth = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, mtls, onEvent: (event) => events.push(event) });
  middlewares.push(auth);
  const app = express();
  app.get('/orders', auth, (_req, res) => { res.json({ ok: true }); });
  app.use(authErrorHandler());
  return app;
}

const hex = (thumbprint: string) => Buffer.from(thumbprint, 'base64url').toString('hex');

describe.each([
  {
    format: 'client-cert' as const,
    header: 'client-cert',
    valid: (certificate: Pki['client']) => clientCertHeader(certificate),
    malformed: [':not base64!:', 'MIIB', `:${Buffer.from('not a certificate').toString('base64')}:`, ':A:'],
  },
  {
    format: 'nginx' as const,
    header: 'x-ssl-client-cert',
    valid: (certificate: Pki['client']) => escapedPem(certificate),
    malformed: ['%E0%A4%A', encodeURIComponent('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), 'plain text'],
  },
  {
    format: 'xfcc' as const,
    header: 'x-forwarded-client-cert',
    valid: (certificate: Pki['client']) => `By=spiffe://mesh/api;Hash=${hex(certificate.thumbprint)};Cert="${escapedPem(certificate)}";Subject="CN=orders,O=Example";URI=spiffe://mesh/orders`,
    malformed: ['Hash=zz', 'Cert="unterminated', 'By', `Hash=${hex(pki_placeholder())};Cert="${'%ZZ'}"`, ';;'],
  },
])('the $format header, when configured', ({ format, header, valid, malformed }) => {
  test('the bound certificate: 200; another certificate: 401 mismatch; absent or empty: 401 missing', async () => {
    const events: RequireAuthEvent[] = [];
    const app = api({ certificate: { header: format } }, events);
    await request(app).get('/orders').set('authorization', `Bearer ${token}`).set(header, valid(pki.client)).expect(200);
    const other = await request(app).get('/orders').set('authorization', `Bearer ${token}`).set(header, valid(pki.other));
    expect(other.status).toBe(401);
    expect(other.body.error_description).toContain(`SHA-256 thumbprint ${pki.other.thumbprint}`);
    await request(app).get('/orders').set('authorization', `Bearer ${token}`).expect(401);
    await request(app).get('/orders').set('authorization', `Bearer ${token}`).set(header, '').expect(401);
    expect(events.flatMap((event) => (event.type === 'auth.rejected' ? [event.code] : [])))
      .toEqual(['ERR_TOKEN_CERTIFICATE_MISMATCH', 'ERR_TOKEN_CERTIFICATE_MISSING', 'ERR_TOKEN_CERTIFICATE_MISSING']);
  });

  test('a malformed value: 401 invalid_token naming the header, never its contents, never a crash', async () => {
    const events: RequireAuthEvent[] = [];
    const app = api({ certificate: { header: format } }, events);
    for (const value of malformed) {
      const response = await request(app).get('/orders').set('authorization', `Bearer ${token}`).set(header, value);
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('invalid_token');
      expect(response.body.error_description).toMatch(new RegExp(`^the token is bound to a client certificate and the request's certificate cannot be read: the ${header} header`));
      if (value.length > 4) expect(response.body.error_description).not.toContain(value);
    }
    expect(new Set(events.flatMap((event) => (event.type === 'auth.rejected' ? [event.code] : [])))).toEqual(new Set(['ERR_CLIENT_CERTIFICATE_MALFORMED']));
  });

  test('sent twice: 401 (which line to believe is unknown)', async () => {
    const server = await listen(api({ certificate: { header: format } }));
    try {
      const response = await rawGet(server.port, '/orders', [['authorization', `Bearer ${token}`], [header, valid(pki.client)], [header, valid(pki.client)]]);
      expect(response.status).toBe(401);
      expect(JSON.parse(response.body).error_description).toContain('sent more than once');
    } finally {
      await server.close();
    }
  });

  test('an unbound token does not depend on the header (a malformed one is not even read)', async () => {
    const plain = await issuer.accessToken({ audience: AUDIENCE, clientId: 'plain' });
    await request(api({ certificate: { header: format } })).get('/orders').set('authorization', `Bearer ${plain}`).set(header, malformed[0] as string).expect(200);
  });

  test('under another name: only the configured name is read', async () => {
    const app = api({ certificate: { header: format, name: 'X-Proxy-Cert' } });
    await request(app).get('/orders').set('authorization', `Bearer ${token}`).set('x-proxy-cert', valid(pki.client)).expect(200);
    await request(app).get('/orders').set('authorization', `Bearer ${token}`).set(header, valid(pki.client)).expect(401);
  });
});

// The xfcc case list above needs a thumbprint before beforeAll runs: any 64 hex digits do.
function pki_placeholder(): string {
  return Buffer.alloc(32, 7).toString('base64url');
}

describe('Envoy XFCC: the last element is the one read (the nearest proxy added it)', () => {
  test('several elements: the binding uses the last; quoted values may hold commas and semicolons', async () => {
    const app = api({ certificate: { header: 'xfcc' } });
    const first = `Hash=${hex(pki.other.thumbprint)};Subject="CN=intruder, O=a;b"`;
    const last = `By=spiffe://mesh/api;Hash=${hex(pki.client.thumbprint)}`;
    await request(app).get('/orders').set('authorization', `Bearer ${token}`).set('x-forwarded-client-cert', `${first},${last}`).expect(200);
    await request(app).get('/orders').set('authorization', `Bearer ${token}`).set('x-forwarded-client-cert', `${last},${first}`).expect(401);
  });

  test('Hash only binds (it is the SHA-256 of the DER); Hash and Cert that disagree: 401', async () => {
    const app = api({ certificate: { header: 'xfcc' } });
    await request(app).get('/orders').set('authorization', `Bearer ${token}`).set('x-forwarded-client-cert', `Hash=${hex(pki.client.thumbprint).toUpperCase()}`).expect(200);
    const response = await request(app).get('/orders').set('authorization', `Bearer ${token}`)
      .set('x-forwarded-client-cert', `Hash=${hex(pki.client.thumbprint)};Cert="${escapedPem(pki.other)}"`);
    expect(response.status).toBe(401);
    expect(response.body.error_description).toContain('Hash and Cert disagree');
  });
});

describe('a header that is not configured is never trusted', () => {
  test.each([
    ['client-cert', () => clientCertHeader(pki.client)],
    ['x-ssl-client-cert', () => escapedPem(pki.client)],
    ['x-forwarded-client-cert', () => `Hash=${hex(pki.client.thumbprint)}`],
  ])('%s with the right certificate, while the API reads another header: ignored, the bound token refused', async (name, value) => {
    const configured = name === 'client-cert' ? { header: 'xfcc' as const } : { header: 'client-cert' as const };
    const response = await request(api({ certificate: configured })).get('/orders').set('authorization', `Bearer ${token}`).set(name, value());
    expect(response.status).toBe(401);
    expect(response.body.error_description).toMatch(/presented none/);
  });

  test('without "mtls", every header is ignored and a certificate-bound token is refused as sender-constrained', async () => {
    const auth = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE });
    middlewares.push(auth);
    const app = express();
    app.get('/orders', auth, (_req, res) => { res.json({}); });
    app.use(authErrorHandler());
    const response = await request(app).get('/orders').set('authorization', `Bearer ${token}`).set('client-cert', clientCertHeader(pki.client));
    expect(response.status).toBe(401);
    expect(response.body.error_description).toMatch(/sender-constrained/);
  });
});

describe("the user's function as the certificate source", () => {
  test('DER, PEM, a promise: bind; undefined: missing; a throw or garbage: 401, never a 500', async () => {
    const sources: Array<[NonNullable<RequireAuthOptions['mtls']>['certificate'], number]> = [
      [() => pki.client.der, 200],
      [() => pki.client.cert, 200],
      [async () => pki.client.cert, 200],
      [() => pki.other.cert, 401],
      [() => undefined, 401],
      [() => { throw new Error('boom'); }, 401],
      [async () => { throw new Error('boom'); }, 401],
      [() => 'garbage', 401],
      [() => 42 as unknown as string, 401],
    ];
    for (const [certificate, status] of sources) {
      await request(api({ certificate })).get('/orders').set('authorization', `Bearer ${token}`).expect(status);
    }
  });
});

describe('the mtls option is read once, at construction, naming what is wrong', () => {
  test.each([
    [{}, /"mtls.certificate" is required/],
    [{ certificate: 'header' }, /"mtls.certificate" must be 'tls', \{ header/],
    [{ certificate: { header: 'apache' } }, /"mtls.certificate.header" must be 'client-cert', 'nginx' or 'xfcc'/],
    [{ certificate: {} }, /"mtls.certificate.header" is required/],
    [{ certificate: { header: 'nginx', name: 'bad name' } }, /"mtls.certificate.name" must be an HTTP header name/],
    [{ certificate: { header: 'nginx', nmae: 'x' } }, /unknown option "mtls.certificate.nmae" \(did you mean "mtls.certificate.name"\?\)/],
    [{ certificate: 'tls', mode: 'always' }, /"mtls.mode" must be 'allowed' or 'required'/],
    [{ certificate: 'tls', modes: 'required' }, /unknown option "mtls.modes"/],
  ])('%j', (mtls, message) => {
    expect(() => requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, mtls: mtls as never })).toThrow(message);
    expect(() => createAuthenticator({ issuerBaseURL: issuer.url, audience: AUDIENCE, mtls: mtls as never })).toThrow(TypeError);
  });
});
