/**
 * protectedResourceMetadata(): the document served at its well-known URL (RFC 9728 section 3),
 * fetched by real HTTP clients from a listening server, with both Express versions; and what it
 * takes from the requireAuth it describes.
 */
import express4 from 'express4';
import type * as Express4Types from 'express4';
import request from 'supertest';
import { protectedResourceMetadata, requireAuth, type ProtectedResourceMetadataMiddlewareOptions, type RequireAuthMiddleware } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { AUDIENCE, EXPRESS_VERSIONS, listen } from './support.js';

const RFC_EXAMPLE = {
  resource: 'https://resource.example.com',
  authorization_servers: ['https://as1.example.com', 'https://as2.example.net'],
  bearer_methods_supported: ['header', 'body'],
  scopes_supported: ['profile', 'email', 'phone'],
  resource_documentation: 'https://resource.example.com/resource_documentation.html',
};

function rfcExample(extra: Partial<ProtectedResourceMetadataMiddlewareOptions> = {}) {
  return protectedResourceMetadata({
    resource: 'https://resource.example.com',
    authorizationServers: ['https://as1.example.com', 'https://as2.example.net'],
    bearerMethodsSupported: ['header', 'body'],
    scopesSupported: ['profile', 'email', 'phone'],
    resourceDocumentation: 'https://resource.example.com/resource_documentation.html',
    ...extra,
  });
}

describe.each(EXPRESS_VERSIONS)('%s', (_name, makeApp) => {
  function app(...middlewares: Array<ReturnType<typeof protectedResourceMetadata>>) {
    const application = makeApp();
    for (const middleware of middlewares) application.use(middleware);
    application.use((_req, res) => { res.status(404).send('not here'); });
    return application;
  }

  describe('RFC 9728 section 3.1/3.2: GET /.well-known/oauth-protected-resource answers 200 with the JSON document', () => {
    test('fetched by fetch() from a listening server: the RFC example, application/json, cacheable, readable from any origin', async () => {
      const server = await listen(app(rfcExample()));
      try {
        const response = await fetch(`${server.url}/.well-known/oauth-protected-resource`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('application/json');
        expect(response.headers.get('cache-control')).toBe('public, max-age=3600');
        expect(response.headers.get('access-control-allow-origin')).toBe('*');
        expect(response.headers.get('access-control-allow-credentials')).toBeNull();
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
        expect(await response.json()).toStrictEqual(RFC_EXAMPLE);
      } finally {
        await server.close();
      }
    });

    test('HEAD: the same headers, no body', async () => {
      const response = await request(app(rfcExample())).head('/.well-known/oauth-protected-resource');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('application/json');
      expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(JSON.stringify(RFC_EXAMPLE)));
      expect(response.text ?? '').toBe('');
    });

    test('a query string does not change the answer', async () => {
      const response = await request(app(rfcExample())).get('/.well-known/oauth-protected-resource?x=1');
      expect(response.body).toStrictEqual(RFC_EXAMPLE);
    });

    test('cacheMaxAge sets max-age; 0 sends no-cache', async () => {
      expect((await request(app(rfcExample({ cacheMaxAge: 60_000 }))).get('/.well-known/oauth-protected-resource')).headers['cache-control']).toBe('public, max-age=60');
      expect((await request(app(rfcExample({ cacheMaxAge: 0 }))).get('/.well-known/oauth-protected-resource')).headers['cache-control']).toBe('no-cache');
    });
  });

  describe('RFC 9728 section 3.1 and 3.3: a resource with a path is answered at the path-suffixed URL, with its own identifier', () => {
    const v1 = protectedResourceMetadata({ resource: 'https://api.example/v1', authorizationServers: ['https://as.example'] });
    const v2 = protectedResourceMetadata({ resource: 'https://api.example/v2', authorizationServers: ['https://other-as.example'] });

    test('https://api.example/v1 -> GET /.well-known/oauth-protected-resource/v1; the document names https://api.example/v1', async () => {
      expect(v1.url).toBe('https://api.example/.well-known/oauth-protected-resource/v1');
      const response = await request(app(v1)).get('/.well-known/oauth-protected-resource/v1');
      expect(response.status).toBe(200);
      expect(response.body.resource).toBe('https://api.example/v1');
    });

    test('the root well-known URL and other paths are not this resource\'s: passed on (a document there would name another resource)', async () => {
      for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/v1/', '/.well-known/oauth-protected-resource/v10', '/v1']) {
        const response = await request(app(v1)).get(path);
        expect([path, response.status, response.text]).toEqual([path, 404, 'not here']);
      }
    });

    test('two resources on one app: each URL answers with the resource it was derived from', async () => {
      const application = app(v1, v2);
      for (const version of ['v1', 'v2']) {
        const { body } = await request(application).get(`/.well-known/oauth-protected-resource/${version}`);
        // Section 3.3: the client derived the URL from this identifier, and checks it comes back.
        expect(body.resource).toBe(`https://api.example/${version}`);
      }
    });

    test('mounted under a router prefix, it still matches the original URL (the well-known path is at the root)', async () => {
      const application = makeApp();
      application.use('/.well-known', v1);
      const response = await request(application).get('/.well-known/oauth-protected-resource/v1');
      expect(response.body.resource).toBe('https://api.example/v1');
    });
  });

  describe('other methods at the well-known URL', () => {
    test('OPTIONS: a CORS preflight, 204, with the requested headers allowed', async () => {
      const response = await request(app(rfcExample()))
        .options('/.well-known/oauth-protected-resource')
        .set('Origin', 'https://client.example')
        .set('Access-Control-Request-Method', 'GET')
        .set('Access-Control-Request-Headers', 'mcp-protocol-version, x-trace');
      expect(response.status).toBe(204);
      expect(response.headers['access-control-allow-origin']).toBe('*');
      expect(response.headers['access-control-allow-methods']).toBe('GET, HEAD, OPTIONS');
      expect(response.headers['access-control-allow-headers']).toBe('mcp-protocol-version, x-trace');
    });

    test('OPTIONS with requested headers that are not a list of header names: not echoed', async () => {
      const response = await request(app(rfcExample())).options('/.well-known/oauth-protected-resource').set('Access-Control-Request-Headers', 'x-a, (x-b)');
      expect(response.status).toBe(204);
      expect(response.headers['access-control-allow-headers']).toBeUndefined();
    });

    test.each(['post', 'put', 'delete', 'patch'] as const)('%s: 405 with Allow', async (method) => {
      const response = await request(app(rfcExample()))[method]('/.well-known/oauth-protected-resource');
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe('GET, HEAD, OPTIONS');
    });
  });
});

describe('types: the middleware is an Express 4 and 5 handler without casts (checked by npm run typecheck)', () => {
  test('app.use() of both type packages takes it', async () => {
    const app4: Express4Types.Express = express4();
    app4.use(rfcExample());
    const response = await request(app4).get('/.well-known/oauth-protected-resource');
    expect(response.body).toStrictEqual(RFC_EXAMPLE);
  });
});

describe('the middleware tells what it serves', () => {
  test('document, url and path, as createProtectedResourceMetadata builds them', () => {
    const metadata = rfcExample();
    expect(metadata.document).toStrictEqual(RFC_EXAMPLE);
    expect(metadata.url).toBe('https://resource.example.com/.well-known/oauth-protected-resource');
    expect(metadata.path).toBe('/.well-known/oauth-protected-resource');
  });
});

describe('the "auth" option: the document describes the requireAuth that protects the API', () => {
  let first: LocalIssuer;
  let second: LocalIssuer;
  const made: RequireAuthMiddleware[] = [];
  const auth = (options: Parameters<typeof requireAuth>[0]) => {
    const middleware = requireAuth(options);
    made.push(middleware);
    return middleware;
  };

  beforeAll(async () => {
    [first, second] = await Promise.all([createLocalIssuer(), createLocalIssuer()]);
  });
  afterAll(async () => {
    for (const middleware of made) middleware.close();
    await Promise.all([first.close(), second.close()]);
  });

  test('authorization_servers: the issuer (issuerBaseURL as written)', () => {
    const metadata = protectedResourceMetadata({ resource: AUDIENCE, auth: auth({ issuerBaseURL: first.url, audience: AUDIENCE }) });
    expect(metadata.document.authorization_servers).toEqual([first.url]);
    expect(metadata.document.bearer_methods_supported).toEqual(['header']);
  });

  test('authorization_servers: "issuer" when given, rather than issuerBaseURL', () => {
    const metadata = protectedResourceMetadata({ resource: AUDIENCE, auth: auth({ issuer: `${first.url}/`, issuerBaseURL: first.url, audience: AUDIENCE }) });
    expect(metadata.document.authorization_servers).toEqual([`${first.url}/`]);
  });

  test('authorization_servers: every issuer of an "issuers" list, in order', () => {
    const metadata = protectedResourceMetadata({
      resource: AUDIENCE,
      auth: auth({ audience: AUDIENCE, issuers: [{ issuerBaseURL: second.url }, { issuerBaseURL: first.url }] }),
    });
    expect(metadata.document.authorization_servers).toEqual([second.url, first.url]);
  });

  test('authorization_servers: from the environment variable requireAuth read (ISSUER_BASE_URL)', () => {
    const saved = process.env.ISSUER_BASE_URL;
    process.env.ISSUER_BASE_URL = second.url;
    try {
      const metadata = protectedResourceMetadata({ resource: AUDIENCE, auth: auth({ audience: AUDIENCE }) });
      expect(metadata.document.authorization_servers).toEqual([second.url]);
    } finally {
      if (saved === undefined) delete process.env.ISSUER_BASE_URL;
      else process.env.ISSUER_BASE_URL = saved;
    }
  });

  test('an explicit authorizationServers wins over the issuers of auth', () => {
    const metadata = protectedResourceMetadata({ resource: AUDIENCE, authorizationServers: ['https://as.example'], auth: auth({ issuerBaseURL: first.url, audience: AUDIENCE }) });
    expect(metadata.document.authorization_servers).toEqual(['https://as.example']);
  });

  test('bearer_methods_supported: the ways auth accepts a token', () => {
    const metadata = protectedResourceMetadata({ resource: AUDIENCE, auth: auth({ issuerBaseURL: first.url, audience: AUDIENCE, allowBodyToken: true, allowQueryToken: true }) });
    expect(metadata.document.bearer_methods_supported).toEqual(['header', 'body', 'query']);
  });

  test.each<[string, () => ProtectedResourceMetadataMiddlewareOptions, RegExp]>([
    ['auth is not a requireAuth middleware', () => ({ resource: AUDIENCE, auth: (() => undefined) as unknown as RequireAuthMiddleware }), /"auth" must be a requireAuth\(\) middleware/],
    ['auth\'s issuers are a function', () => ({ resource: AUDIENCE, auth: auth({ audience: AUDIENCE, issuers: () => undefined }) }),
      /"auth" cannot give "authorizationServers" \(its "issuers" is a function .*\): pass "authorizationServers"/],
    ['auth\'s issuer is not a URL (a shared secret\'s issuer)', () => ({ resource: AUDIENCE, auth: auth({ issuer: 'my-app', secret: 'a'.repeat(32), audience: AUDIENCE }) }),
      /"auth" cannot give "authorizationServers" \(its issuer must be an issuer identifier, an absolute https URL, got "my-app"\)/],
    ['a bearer method auth does not accept', () => ({ resource: AUDIENCE, bearerMethodsSupported: ['header', 'query'], auth: auth({ issuerBaseURL: first.url, audience: AUDIENCE }) }),
      /"bearerMethodsSupported" lists 'query', which "auth" does not accept \(allowQueryToken is off\)/],
    ['auth\'s challenges point to another metadata URL', () => ({
      resource: 'https://api.orders.test/v2',
      auth: auth({ issuerBaseURL: first.url, audience: AUDIENCE, resourceMetadata: 'https://api.orders.test/.well-known/oauth-protected-resource/v1' }),
    }), /"resource" gives the metadata URL "https:\/\/api.orders.test\/.well-known\/oauth-protected-resource\/v2", but the challenges of "auth" point to/],
    ['no auth and no authorizationServers', () => ({ resource: AUDIENCE }), /"authorizationServers" is required \(.*: pass it, or the requireAuth\(\) middleware as "auth"\)/],
    ['a bad cacheMaxAge', () => ({ resource: AUDIENCE, authorizationServers: ['https://as.example'], cacheMaxAge: -1 }), /"cacheMaxAge" must be a non-negative finite number of milliseconds/],
    ['a misspelt option', () => ({ resource: AUDIENCE, authorizationServer: ['https://as.example'] } as never), /unknown option "authorizationServer" \(did you mean "authorizationServers"\?\)/],
    ['a bad resource', () => ({ resource: 'http://api.example', authorizationServers: ['https://as.example'] }), /"resource" must be an https URL/],
  ])('refused at construction, naming the option: %s', (_case, options, message) => {
    const given = options();
    expect(() => protectedResourceMetadata(given)).toThrow(TypeError);
    expect(() => protectedResourceMetadata(given)).toThrow(/^protectedResourceMetadata: /);
    expect(() => protectedResourceMetadata(given)).toThrow(message);
  });

  test('auth with the same metadata URL is accepted', () => {
    const metadata = protectedResourceMetadata({
      resource: AUDIENCE,
      auth: auth({ issuerBaseURL: first.url, audience: AUDIENCE, resourceMetadata: `${AUDIENCE}/.well-known/oauth-protected-resource` }),
    });
    expect(metadata.url).toBe(`${AUDIENCE}/.well-known/oauth-protected-resource`);
  });
});
