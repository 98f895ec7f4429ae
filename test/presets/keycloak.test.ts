/**
 * The Keycloak preset end to end: the local issuer signs tokens shaped as Keycloak's
 * (`iss` `<base>/realms/<realm>`, `typ: 'Bearer'`, `azp`, `aud` only with an Audience mapper and
 * `account` by default, `realm_access.roles`, `resource_access.<client>.roles`, `scope`), and a
 * provider host serves the realm's keys and token endpoint on Keycloak's paths.
 */
import { clientCredentials, keycloak, requireRoles } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { call, protectedApi, providerHost, type ProviderHost } from './support.js';

let issuer: LocalIssuer;
let host: ProviderHost;

beforeAll(async () => {
  issuer = await createLocalIssuer();
  host = await providerHost(issuer, [
    [/^\/realms\/[^/]+\/protocol\/openid-connect\/certs$/, 'jwks'],
    [/^\/realms\/[^/]+\/protocol\/openid-connect\/token$/, 'token'],
  ]);
});
afterAll(async () => {
  await host.close();
  await issuer.close();
});

/** A service-account access token as Keycloak shapes it (with an Audience mapper for orders-api). */
function accessToken(claims: Record<string, unknown> = {}): Promise<string> {
  return issuer.sign({
    iss: `${host.url}/realms/shop`, typ: 'Bearer', azp: 'billing', aud: ['orders-api', 'account'], sub: 'f3c1-service-account',
    realm_access: { roles: ['default-roles-shop', 'offline_access'] },
    resource_access: { 'orders-api': { roles: ['reader'] }, account: { roles: ['manage-account'] } },
    scope: 'profile email', clientHost: '10.0.0.1', preferred_username: 'service-account-billing', ...claims,
  }, { header: { typ: 'JWT' } });
}

const preset = (options: Partial<Parameters<typeof keycloak>[0]> = {}) => keycloak({ baseURL: host.url, realm: 'shop', audience: 'orders-api', ...options });

describe('keycloak(): the tokens of a realm', () => {
  it('accepts a token with the audience; client roles and realm roles for requireRoles', async () => {
    const api = await protectedApi(preset(), requireRoles('reader', { from: keycloak.clientRoles('orders-api') }), requireRoles('offline_access', { from: keycloak.realmRoles }));
    try {
      expect((await call(api, await accessToken())).status).toBe(200);
      expect(host.requests.some((request) => request.path === '/realms/shop/protocol/openid-connect/certs')).toBe(true);
      const noRole = await call(api, await accessToken({ resource_access: { account: { roles: ['reader'] } } }));
      expect(noRole.status).toBe(403);
      expect(noRole.body.error_description).toBe('the token needs the role reader (in resource_access.orders-api.roles)');
    } finally {
      await api.close();
    }
  });

  it('a role path works too: requireRoles(role, { from: [realm_access, roles] })', async () => {
    const api = await protectedApi(preset(), requireRoles(['admin', 'offline_access'], { from: ['realm_access', 'roles'], match: 'any' }));
    try {
      expect((await call(api, await accessToken())).status).toBe(200);
      const answer = await call(api, await accessToken({ realm_access: { roles: [] } }));
      expect(answer.body.error_description).toBe('the token needs one of the roles admin offline_access (in realm_access.roles)');
    } finally {
      await api.close();
    }
  });

  describe('common mistakes, named', () => {
    let api: Awaited<ReturnType<typeof protectedApi>>;
    beforeAll(async () => {
      api = await protectedApi(preset());
    });
    afterAll(async () => {
      await api.close();
    });

    it('a token without aud (no Audience mapper): the description says how to add one', async () => {
      const answer = await call(api, await accessToken({ aud: undefined }));
      expect(answer.status).toBe(401);
      expect(answer.body.error_description).toMatch(/^the token has no audience: Keycloak adds one only through a mapper: add an Audience mapper .* with Included Client Audience "orders-api"$/);
    });

    it("a token with Keycloak's default audience only (account)", async () => {
      const answer = await call(api, await accessToken({ aud: 'account' }));
      expect(answer.body.error_description).toMatch(/^the token is for another audience \(Keycloak's default is "account"\): add an Audience mapper/);
    });

    it('an ID token sent instead of the access token', async () => {
      const answer = await call(api, await accessToken({ typ: 'ID', aud: 'orders-api' }));
      expect(answer.body.error_description).toBe('this is a Keycloak ID token (typ "ID"): send the access token of the token response instead');
    });

    it('a token of another realm', async () => {
      expect((await call(api, await accessToken({ iss: `${host.url}/realms/master` }))).status).toBe(401);
    });
  });

  it('clients: azp', async () => {
    const api = await protectedApi(preset({ clients: ['billing'] }));
    try {
      expect((await call(api, await accessToken())).status).toBe(200);
      expect((await call(api, await accessToken({ azp: 'reports' }))).body.error_description).toMatch(/not allowed here \('azp' claim\)/);
    } finally {
      await api.close();
    }
  });

  it('options: issuer, keys; bad inputs throw naming the option', () => {
    expect(keycloak({ baseURL: 'https://sso.acme.com/auth/', realm: 'shop', audience: 'orders-api' })).toMatchObject({
      issuer: 'https://sso.acme.com/auth/realms/shop', jwksUri: 'https://sso.acme.com/auth/realms/shop/protocol/openid-connect/certs',
    });
    expect(() => keycloak({ baseURL: 'https://sso.acme.com', realm: 'shop' } as never)).toThrow(/^keycloak: "audience" is required \(this API's client id, which an Audience mapper/);
    expect(() => keycloak({ baseURL: 'https://sso.acme.com', realm: 'a/b', audience: 'x' })).toThrow('keycloak: "realm" must be a realm name');
    expect(() => keycloak({ baseURL: 'sso.acme.com', realm: 'shop', audience: 'x' })).toThrow('keycloak: "baseURL" must be an absolute http(s) URL');
    expect(() => keycloak.clientRoles('')).toThrow('keycloak.clientRoles: "clientId" must be a non-empty string');
  });
});

describe('keycloak.client(): client credentials from a realm', () => {
  it('POSTs to /realms/<realm>/protocol/openid-connect/token with HTTP Basic authentication', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: ['orders-api'] });
    const provider = clientCredentials(keycloak.client({ baseURL: host.url, realm: 'shop', clientId, clientSecret }));
    try {
      await provider.getToken();
      expect(host.requests.at(-1)?.path).toBe('/realms/shop/protocol/openid-connect/token');
      const request = issuer.lastTokenRequest!;
      expect(request.headers.authorization).toBe(`Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`);
      expect(request.params).toEqual({ grant_type: 'client_credentials' });
    } finally {
      provider.close();
    }
  });
});
