/**
 * The Amazon Cognito preset end to end: the local issuer (under the user pool's path, so its JWKS
 * is at `<issuer>/.well-known/jwks.json` as Cognito's) signs tokens shaped as Cognito's access
 * tokens (no `aud`, `client_id`, `token_use: 'access'`, `scope` of `<resource server>/<scope>`)
 * and ID tokens (`token_use: 'id'`, `aud` the app client); a provider host serves the pool
 * domain's `/oauth2/token`.
 */
import { clientCredentials, cognito, requireRoles, requireScopes } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { call, nowSeconds, protectedApi, providerHost } from './support.js';

const POOL = 'eu-west-1_AbCdEf123';
const CLIENT = '4e7a1bq3s2example';
let issuer: LocalIssuer;
let idp: string;

beforeAll(async () => {
  issuer = await createLocalIssuer({ path: `/${POOL}` });
  idp = issuer.url.slice(0, -POOL.length - 1);
});
afterAll(async () => {
  await issuer.close();
});

/** A client-credentials access token as Cognito shapes it. */
function accessToken(claims: Record<string, unknown> = {}): Promise<string> {
  return issuer.sign({
    iss: `${idp}/${POOL}`, sub: CLIENT, client_id: CLIENT, token_use: 'access', scope: 'orders/read orders/write',
    auth_time: nowSeconds(), version: 2, ...claims,
  }, { header: { typ: undefined } });
}

describe('cognito(): the access tokens of a user pool', () => {
  let api: Awaited<ReturnType<typeof protectedApi>>;
  beforeAll(async () => {
    api = await protectedApi(cognito({ userPoolId: POOL, clients: CLIENT, idpBaseURL: idp }), requireScopes('orders/read'));
  });
  afterAll(async () => {
    await api.close();
  });

  it('accepts an access token without aud, its client allowed, scopes <resource server>/<scope>', async () => {
    const answer = await call(api, await accessToken());
    expect(answer.status).toBe(200);
    expect(answer.body.scopes).toEqual(['orders/read', 'orders/write']);
    const narrow = await call(api, await accessToken({ scope: 'orders/write' }));
    expect(narrow.status).toBe(403);
  });

  it('an ID token sent instead of the access token: the description says so', async () => {
    const idToken = await issuer.sign({
      iss: `${idp}/${POOL}`, sub: '8f0e-user', aud: CLIENT, token_use: 'id', 'cognito:username': 'alice', email: 'alice@example.com', auth_time: nowSeconds(),
    });
    const answer = await call(api, idToken);
    expect(answer.status).toBe(401);
    expect(answer.body.error_description).toBe('this is a Cognito ID token (token_use "id"): send the access token of the token response instead');
  });

  it("an access token of another app client is refused ('client_id')", async () => {
    const answer = await call(api, await accessToken({ client_id: 'someoneelse' }));
    expect(answer.status).toBe(401);
    expect(answer.body.error_description).toMatch(/issued to a client that is not allowed here \('client_id' claim\)/);
  });

  it('the issuer is the pool, exactly: another pool of the same region is refused', async () => {
    expect((await call(api, await accessToken({ iss: `${idp}/eu-west-1_Other999` }))).status).toBe(401);
  });
});

describe('cognito(): options', () => {
  it('the issuer and JWKS of the region of the pool id', () => {
    expect(cognito({ userPoolId: POOL, clients: [CLIENT] })).toMatchObject({
      issuer: `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`,
      jwksUri: `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}/.well-known/jwks.json`,
    });
  });

  it('groups for requireRoles (cognito:groups)', async () => {
    const api = await protectedApi(cognito({ userPoolId: POOL, clients: CLIENT, idpBaseURL: idp }), requireRoles('admins', { from: cognito.groups }));
    try {
      expect((await call(api, await accessToken({ 'cognito:groups': ['admins'] }))).status).toBe(200);
      expect((await call(api, await accessToken())).status).toBe(403);
    } finally {
      await api.close();
    }
  });

  it('bad inputs throw a TypeError naming the option', () => {
    expect(() => cognito({ userPoolId: 'AbCdEf123', clients: CLIENT })).toThrow('cognito: "userPoolId" must be a user pool id, <region>_<id> like eu-west-1_AbCdEf123');
    expect(() => cognito({ userPoolId: POOL } as never)).toThrow(/^cognito: "clients" is required \(Cognito access tokens have no 'aud'/);
    expect(() => cognito({ userPoolId: POOL, clients: [] })).toThrow('cognito: "clients" must be a non-empty string or an array of non-empty strings');
  });
});

describe('cognito.client(): client credentials from the user pool domain', () => {
  it('POSTs to <domain>/oauth2/token with HTTP Basic authentication and the scopes', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: ['orders'], scopes: ['orders/read'] });
    const domain = await providerHost(issuer, [[/^\/oauth2\/token$/, 'token']]);
    const provider = clientCredentials(cognito.client({ domain: domain.url, clientId, clientSecret, scope: 'orders/read' }));
    try {
      await provider.getToken();
      expect(domain.requests[0]?.path).toBe('/oauth2/token');
      const request = issuer.lastTokenRequest!;
      expect(request.headers.authorization).toBe(`Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`);
      expect(request.params).toEqual({ grant_type: 'client_credentials', scope: 'orders/read' });
    } finally {
      provider.close();
      await domain.close();
    }
  });

  it('the token endpoint of the prefix domain', () => {
    expect(cognito.client({ domain: 'acme.auth.eu-west-1.amazoncognito.com', clientId: 'c', clientSecret: 's' })).toEqual({
      tokenEndpoint: 'https://acme.auth.eu-west-1.amazoncognito.com/oauth2/token', clientId: 'c', clientSecret: 's', authMethod: 'client_secret_basic',
    });
  });
});
