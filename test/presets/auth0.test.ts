/**
 * The Auth0 preset end to end against the local issuer, which mints Auth0-shaped tokens (`iss`
 * with its trailing slash, `sub` `<client>@clients`, `azp`, `gty`, `scope`) and serves Auth0's
 * paths (`/.well-known/jwks.json`, `/oauth/token`).
 */
import { auth0, clientCredentials, requireRoles, requireScopes } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { call, protectedApi } from './support.js';

const API = 'https://orders.example.com';
let issuer: LocalIssuer;

beforeAll(async () => {
  issuer = await createLocalIssuer();
});
afterAll(async () => {
  await issuer.close();
});

describe('auth0(): the tokens of an Auth0 tenant', () => {
  it('accepts a machine-to-machine token for the API, scopes from scope and RBAC permissions for requireRoles', async () => {
    const api = await protectedApi(auth0({ domain: issuer.url, audience: API }), requireScopes('read:orders'), requireRoles('read:orders', { from: auth0.permissions }));
    try {
      const token = await issuer.accessToken({ clientId: 'billing', audience: API, scope: 'read:orders', claims: { permissions: ['read:orders'] } });
      const answer = await call(api, token);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ sub: 'billing@clients', scopes: ['read:orders'] });
      // RBAC on, the permission missing: 403 insufficient_scope.
      const without = await issuer.accessToken({ clientId: 'billing', audience: API, scope: 'read:orders', claims: { permissions: [] } });
      const refused = await call(api, without);
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ error: 'insufficient_scope', error_description: 'the token needs the role read:orders (in permissions)' });
    } finally {
      await api.close();
    }
  });

  it('checks the issuer with its trailing slash, exactly', async () => {
    const options = auth0({ domain: 'acme.eu.auth0.com', audience: API });
    expect(options).toMatchObject({ issuer: 'https://acme.eu.auth0.com/', jwksUri: 'https://acme.eu.auth0.com/.well-known/jwks.json' });
    const api = await protectedApi(auth0({ domain: issuer.url, audience: API }));
    try {
      const token = await issuer.accessToken({ audience: API, claims: { iss: issuer.url } });
      expect((await call(api, token)).status).toBe(401);
    } finally {
      await api.close();
    }
  });

  describe('a token for another API is refused, naming the mistake', () => {
    let api: Awaited<ReturnType<typeof protectedApi>>;
    beforeAll(async () => {
      api = await protectedApi(auth0({ domain: issuer.url, audience: API }));
    });
    afterAll(async () => {
      await api.close();
    });

    it.each([
      ['a token for another API', () => ({ aud: 'https://billing.example.com' }), /is for another API: request it with "audience" set to this API's Identifier/],
      ['a Management API token', () => ({ aud: `${issuer.url}/api/v2/` }), /is for the Auth0 Management API, not this API/],
      ['a token requested without audience', () => ({ aud: undefined }), /has no audience: request it with the "audience" parameter/],
    ])('%s', async (_name, claims, description) => {
      const token = await issuer.accessToken({ audience: 'placeholder', claims: claims() });
      const answer = await call(api, token);
      expect(answer.status).toBe(401);
      expect(answer.body.error).toBe('invalid_token');
      expect(answer.body.error_description).toMatch(description);
    });
  });

  it('clients: only the listed client ids (azp) may call', async () => {
    const api = await protectedApi(auth0({ domain: issuer.url, audience: API, clients: ['billing'] }));
    try {
      expect((await call(api, await issuer.accessToken({ clientId: 'billing', audience: API }))).status).toBe(200);
      const other = await call(api, await issuer.accessToken({ clientId: 'reports', audience: API }));
      expect(other.status).toBe(401);
      expect(other.body.error_description).toMatch(/issued to a client that is not allowed here \('azp' claim\)/);
    } finally {
      await api.close();
    }
  });

  it('a custom domain and the tenant domain: each is an issuer of its own', async () => {
    const custom = await createLocalIssuer();
    const api = await protectedApi(auth0({ domain: [issuer.url, custom.url], audience: API }));
    try {
      expect((await call(api, await issuer.accessToken({ audience: API }))).status).toBe(200);
      expect((await call(api, await custom.accessToken({ audience: API }))).status).toBe(200);
    } finally {
      await api.close();
      await custom.close();
    }
  });

  it('every other requireAuth option still applies when the result is spread', async () => {
    const api = await protectedApi({ ...auth0({ domain: issuer.url, audience: API }), realm: 'orders' });
    try {
      const answer = await call(api, 'not-a-jwt');
      expect(answer.challenge).toMatch(/^Bearer realm="orders", error="invalid_token"/);
    } finally {
      await api.close();
    }
  });

  it('bad inputs throw a TypeError naming the option', () => {
    expect(() => auth0({ domain: 'https://acme.auth0.com/?x=1', audience: API })).toThrow('auth0: "domain" must not have a query, a fragment or userinfo');
    expect(() => auth0({ domain: 'acme auth0', audience: API })).toThrow('auth0: "domain" must be a host name like acme.eu.auth0.com');
    expect(() => auth0({ domain: 'acme.auth0.com' } as never)).toThrow('auth0: "audience" is required');
    expect(() => auth0({ domain: 'acme.auth0.com', audience: API, client: 'x' } as never)).toThrow('auth0: unknown option "client" (did you mean "clients"?)');
    expect(() => auth0({ domain: 'http://auth.example.com', audience: API })).toThrow('auth0: "domain" must be an https URL');
  });
});

describe('auth0.client(): client-credentials tokens from an Auth0 tenant', () => {
  it('POSTs to /oauth/token with the audience, the secret in the body (client_secret_post)', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [API], scopes: ['read:orders'] });
    const provider = clientCredentials(auth0.client({ domain: issuer.url, clientId, clientSecret, audience: API }));
    try {
      const token = await provider.getToken();
      expect(typeof token).toBe('string');
      const request = issuer.lastTokenRequest!;
      expect(request.headers.authorization).toBeUndefined();
      expect(request.contentType).toBe('application/x-www-form-urlencoded');
      expect(request.params).toEqual({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, audience: API });
    } finally {
      provider.close();
    }
  });

  it('a JSON body when spread with bodyFormat: json (Auth0 accepts both)', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [API] });
    const provider = clientCredentials({ ...auth0.client({ domain: issuer.url, clientId, clientSecret, audience: API }), bodyFormat: 'json' });
    try {
      await provider.getToken();
      expect(issuer.lastTokenRequest!.contentType).toMatch(/^application\/json/);
      expect(JSON.parse(issuer.lastTokenRequest!.body)).toMatchObject({ grant_type: 'client_credentials', audience: API });
    } finally {
      provider.close();
    }
  });

  it('the token endpoint of the domain; audience required', () => {
    expect(auth0.client({ domain: 'login.acme.com', clientId: 'c', clientSecret: 's', audience: API })).toEqual({
      tokenEndpoint: 'https://login.acme.com/oauth/token', clientId: 'c', clientSecret: 's', authMethod: 'client_secret_post', audience: API,
    });
    expect(() => auth0.client({ domain: 'acme.auth0.com', clientId: 'c', clientSecret: 's' } as never)).toThrow('auth0.client: "audience" is required');
    expect(() => auth0.client({ domain: 'acme.auth0.com', clientId: 'c', audience: API })).toThrow('auth0.client: give exactly one of "clientSecret" and "privateKey"');
  });
});

describe('preset inputs that belong to requireAuth or clientCredentials', () => {
  it('are named as such, with where they go', () => {
    expect(() => auth0({ domain: 'acme.auth0.com', audience: API, realm: 'orders' } as never))
      .toThrow('auth0: unknown option "realm" (an option of requireAuth: requireAuth({ ...auth0({ ... }), realm }))');
    expect(() => auth0.client({ domain: 'acme.auth0.com', clientId: 'c', clientSecret: 's', audience: API, cache: {} } as never))
      .toThrow('auth0.client: unknown option "cache" (an option of clientCredentials: clientCredentials({ ...auth0.client({ ... }), cache }))');
  });

  it('an item of a domain list is named by its index', () => {
    expect(() => auth0({ domain: ['acme.auth0.com', 'not a host'], audience: API })).toThrow('auth0: "domain[1]" must be a host name like acme.eu.auth0.com');
  });
});
