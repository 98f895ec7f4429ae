/**
 * The Okta preset end to end: the local issuer signs tokens shaped as those of an Okta custom
 * authorization server (`iss` `<domain>/oauth2/default`, `aud` `api://default`, `scp` an array,
 * `cid`, `uid` for users, `ver: 1`, a `jti` `AT.`...), and a provider host serves its keys and
 * token endpoint on Okta's paths (`/oauth2/<server>/v1/keys`, `/v1/token`).
 */
import { clientCredentials, okta, requireScopes } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { call, nowSeconds, protectedApi, providerHost, type ProviderHost } from './support.js';

const CLIENT = '0oa1b2c3d4EXAMPLE';
let issuer: LocalIssuer;
let host: ProviderHost;

beforeAll(async () => {
  issuer = await createLocalIssuer();
  host = await providerHost(issuer, [
    [/^\/oauth2\/[A-Za-z0-9]+\/v1\/keys$/, 'jwks'],
    [/^\/oauth2\/[A-Za-z0-9]+\/v1\/token$/, 'token'],
  ]);
});
afterAll(async () => {
  await host.close();
  await issuer.close();
});

function accessToken(claims: Record<string, unknown> = {}, server = 'default'): Promise<string> {
  return issuer.sign({
    ver: 1, jti: 'AT.5b4f1Zk3Example', iss: `${host.url}/oauth2/${server}`, aud: 'api://default', iat: nowSeconds(), cid: CLIENT,
    scp: ['orders:read'], sub: CLIENT, ...claims,
  }, { header: { typ: undefined } });
}

describe('okta(): the tokens of a custom authorization server', () => {
  it('accepts a token of the default server for api://default, its scopes from scp (an array)', async () => {
    const api = await protectedApi(okta({ domain: host.url }), requireScopes('orders:read'));
    try {
      const answer = await call(api, await accessToken());
      expect(answer.status).toBe(200);
      expect(answer.body.scopes).toEqual(['orders:read']);
      expect(host.requests.some((request) => request.path === '/oauth2/default/v1/keys')).toBe(true);
      expect((await call(api, await accessToken({ scp: ['orders:write'] }))).status).toBe(403);
    } finally {
      await api.close();
    }
  });

  it("a token for another audience names the authorization server's Audience setting", async () => {
    const api = await protectedApi(okta({ domain: host.url }));
    try {
      const answer = await call(api, await accessToken({ aud: 'api://billing' }));
      expect(answer.status).toBe(401);
      expect(answer.body.error_description).toMatch(/^the token is for another audience: the authorization server's Audience/);
    } finally {
      await api.close();
    }
  });

  it('another authorization server: its own issuer and audience; clients checked against cid', async () => {
    const api = await protectedApi(okta({ domain: host.url, authorizationServerId: 'aus9orders', audience: 'api://orders', clients: CLIENT }));
    try {
      expect((await call(api, await accessToken({ aud: 'api://orders' }, 'aus9orders'))).status).toBe(200);
      // A token of the default server is not this server's.
      expect((await call(api, await accessToken({ aud: 'api://orders' }))).body.error_description).toBe("unexpected 'iss' claim value");
      const stranger = await call(api, await accessToken({ aud: 'api://orders', cid: '0oaStranger' }, 'aus9orders'));
      expect(stranger.body.error_description).toMatch(/not allowed here \('cid' claim\)/);
    } finally {
      await api.close();
    }
  });

  it('options: issuer, keys; bad inputs throw naming the option', () => {
    expect(okta({ domain: 'acme.okta.com' })).toMatchObject({
      issuer: 'https://acme.okta.com/oauth2/default', jwksUri: 'https://acme.okta.com/oauth2/default/v1/keys', scopeClaim: 'scp',
    });
    expect(() => okta({ domain: 'acme.okta.com', authorizationServerId: 'aus9orders' })).toThrow('okta: "audience" is required');
    expect(() => okta({ domain: 'acme.okta.com', authorizationServerId: '../x' })).toThrow('okta: "authorizationServerId" must be an authorization server id');
  });
});

describe('okta.client(): client credentials from a custom authorization server', () => {
  it('POSTs to /oauth2/<server>/v1/token with HTTP Basic authentication and the required scope', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: ['api://default'], scopes: ['orders:read'] });
    const provider = clientCredentials(okta.client({ domain: host.url, clientId, clientSecret, scope: 'orders:read' }));
    try {
      await provider.getToken();
      expect(host.requests.at(-1)?.path).toBe('/oauth2/default/v1/token');
      const request = issuer.lastTokenRequest!;
      expect(request.headers.authorization).toBe(`Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`);
      expect(request.params).toEqual({ grant_type: 'client_credentials', scope: 'orders:read' });
    } finally {
      provider.close();
    }
  });

  it('scope is required', () => {
    expect(() => okta.client({ domain: 'acme.okta.com', clientId: 'c', clientSecret: 's' } as never)).toThrow('okta.client: "scope" is required');
  });
});
