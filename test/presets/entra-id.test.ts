/**
 * The Microsoft Entra ID preset end to end: the local issuer signs tokens shaped as Entra's v2.0
 * and v1.0 access tokens (issuers `<login>/<tenant>/v2.0` and `<sts>/<tenant>/`, `tid`, `ver`,
 * `azp`/`appid`, app permissions in `roles`, delegated ones in `scp`), and a provider host serves
 * its keys on Entra's path (`/<tenant>/discovery/v2.0/keys`) and its token endpoint on
 * `/<tenant>/oauth2/v2.0/token`.
 */
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { clientCredentials, entraId, requireRoles, requireScopes } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { call, decodeJwt, protectedApi, providerHost, type ProviderHost } from './support.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TENANT = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';
const THIRD_TENANT = '3c2b1a00-0000-4000-8000-000000000003';
const APP_ID = 'c1f3a3a8-0d5e-4c8e-9b8a-2b1b6c1f0a11';
const APP_URI = 'api://orders';
const CLIENT = '0a1b2c3d-1111-4222-8333-444455556666';
const STS = 'http://sts.localhost';

let issuer: LocalIssuer;
let host: ProviderHost;

beforeAll(async () => {
  issuer = await createLocalIssuer();
  host = await providerHost(issuer, [
    [/^\/([0-9a-f-]{36}|common)\/discovery\/v2\.0\/keys$/, 'jwks'],
    [/^\/[^/]+\/oauth2\/v2\.0\/token$/, 'token'],
  ]);
});
afterAll(async () => {
  await host.close();
  await issuer.close();
});

/** An app-only v2.0 token (client credentials) of `tenant`, as Entra shapes it. */
function v2Token(claims: Record<string, unknown> = {}, tenant = TENANT): Promise<string> {
  return issuer.sign({
    iss: `${host.url}/${tenant}/v2.0`, aud: APP_ID, tid: tenant, ver: '2.0', azp: CLIENT, azpacr: '1', idtyp: 'app',
    oid: '9f8e7d6c-0000-4000-8000-00000000000a', sub: '9f8e7d6c-0000-4000-8000-00000000000a', roles: ['Orders.Read'], ...claims,
  }, { header: { typ: 'JWT' } });
}

/** A v1.0 token, as Entra shapes it for an API whose registration does not ask for v2.0. */
function v1Token(claims: Record<string, unknown> = {}, tenant = TENANT): Promise<string> {
  return issuer.sign({
    iss: `${STS}/${tenant}/`, aud: APP_URI, tid: tenant, ver: '1.0', appid: CLIENT, appidacr: '1', idtyp: 'app', roles: ['Orders.Read'], ...claims,
  }, { header: { typ: 'JWT' } });
}

function preset(options: Partial<Parameters<typeof entraId>[0]> = {}) {
  return entraId({ tenant: TENANT, audience: [APP_ID, APP_URI], loginBaseURL: host.url, stsBaseURL: STS, ...options });
}

describe('entraId(): a single tenant, v2.0 tokens', () => {
  let api: Awaited<ReturnType<typeof protectedApi>>;
  beforeAll(async () => {
    api = await protectedApi(preset(), requireRoles('Orders.Read'));
  });
  afterAll(async () => {
    await api.close();
  });

  it("accepts an app-only token with the tenant's keys; app permissions are the roles requireRoles reads", async () => {
    const answer = await call(api, await v2Token());
    expect(answer.status).toBe(200);
    expect(host.requests.some((request) => request.path === `/${TENANT}/discovery/v2.0/keys`)).toBe(true);
    const noRole = await call(api, await v2Token({ roles: ['Orders.Write'] }));
    expect(noRole.status).toBe(403);
    expect(noRole.body).toEqual({ error: 'insufficient_scope', error_description: 'the token needs the role Orders.Read (in roles)' });
  });

  it('a v1.0 token sent to the API configured for v2.0: the description says what to change', async () => {
    const answer = await call(api, await v1Token());
    expect(answer.status).toBe(401);
    expect(answer.body.error_description).toMatch(/^this is an Entra ID v1\.0 access token .* set "accessTokenAcceptedVersion": 2 in the manifest of the API's app registration/);
  });

  it('a Microsoft Graph token is refused as such; a token for another API too', async () => {
    const graph = await call(api, await v2Token({ aud: '00000003-0000-0000-c000-000000000000' }));
    expect(graph.status).toBe(401);
    expect(graph.body.error_description).toMatch(/^the token is for Microsoft Graph, not this API/);
    const other = await call(api, await v2Token({ aud: 'api://billing' }));
    expect(other.body.error_description).toMatch(/^the token is for another API: request it with scope '<this API's App ID URI>\/\.default'/);
  });

  it('a token of another tenant is not trusted, and no keys are fetched for it', async () => {
    host.requests.length = 0;
    const answer = await call(api, await v2Token({}, OTHER_TENANT));
    expect(answer.status).toBe(401);
    expect(answer.body.error_description).toBe("the token's issuer is not trusted here");
    expect(host.requests).toEqual([]);
  });

  it("a token whose tid is not the tenant of its issuer is refused (the {tenantid} template filled with the token's tid)", async () => {
    const answer = await call(api, await v2Token({ tid: OTHER_TENANT }));
    expect(answer.status).toBe(401);
    expect(answer.body.error_description).toBe("the token's issuer is not the one of its tenant ('tid' claim)");
  });

  it('scp holds the delegated scopes (requireScopes)', async () => {
    const delegated = await protectedApi(preset(), requireScopes('Orders.Read'));
    try {
      const answer = await call(delegated, await v2Token({ scp: 'Orders.Read User.Read', roles: undefined, idtyp: 'user' }));
      expect(answer.status).toBe(200);
      expect(answer.body.scopes).toEqual(['Orders.Read', 'User.Read']);
    } finally {
      await delegated.close();
    }
  });
});

describe('entraId(): versions, clients', () => {
  it("version '1.0' accepts v1.0 tokens (issuer on sts, aud the App ID URI) and names a v2.0 token", async () => {
    const api = await protectedApi(preset({ version: '1.0' }));
    try {
      expect((await call(api, await v1Token())).status).toBe(200);
      const answer = await call(api, await v2Token());
      expect(answer.body.error_description).toMatch(/^this is an Entra ID v2\.0 access token and this API accepts v1\.0 tokens/);
    } finally {
      await api.close();
    }
  });

  it("version 'both' accepts either", async () => {
    const api = await protectedApi(preset({ version: 'both' }));
    try {
      expect((await call(api, await v1Token())).status).toBe(200);
      expect((await call(api, await v2Token())).status).toBe(200);
    } finally {
      await api.close();
    }
  });

  it('clients: azp in v2.0 tokens, appid in v1.0 tokens', async () => {
    const api = await protectedApi(preset({ version: 'both', clients: CLIENT }));
    try {
      expect((await call(api, await v2Token())).status).toBe(200);
      expect((await call(api, await v1Token())).status).toBe(200);
      const stranger = '99999999-1111-4222-8333-444455556666';
      expect((await call(api, await v2Token({ azp: stranger }))).body.error_description).toMatch(/issued to a client that is not allowed here \('azp' in v2\.0 tokens, 'appid' in v1\.0\)/);
      expect((await call(api, await v1Token({ appid: stranger }))).status).toBe(401);
    } finally {
      await api.close();
    }
  });
});

describe('entraId(): multi-tenant', () => {
  it('a list of tenants: each one with its own keys; a tenant not on the list is refused', async () => {
    const api = await protectedApi(preset({ tenant: [TENANT, OTHER_TENANT] }));
    try {
      expect((await call(api, await v2Token({}, TENANT))).status).toBe(200);
      expect((await call(api, await v2Token({}, OTHER_TENANT))).status).toBe(200);
      expect(host.requests.some((request) => request.path === `/${OTHER_TENANT}/discovery/v2.0/keys`)).toBe(true);
      expect((await call(api, await v2Token({}, THIRD_TENANT))).body.error_description).toBe("the token's issuer is not trusted here");
    } finally {
      await api.close();
    }
  });

  it("anyTenant: true accepts every tenant, its issuer the template filled with the token's tid, the keys Entra's common ones", async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    host.requests.length = 0;
    const api = await protectedApi(preset({ tenant: undefined, anyTenant: true }));
    try {
      expect((await call(api, await v2Token({}, THIRD_TENANT))).status).toBe(200);
      expect((await call(api, await v2Token({}, OTHER_TENANT))).status).toBe(200);
      // Made-up tenants cost no key request: one key source serves every tenant.
      for (const tenant of ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002']) {
        // The kid of a real key, signed by another: the signature fails, with the keys at hand.
        const forged = await issuer.sign({ iss: `${host.url}/${tenant}/v2.0`, aud: APP_ID, tid: tenant, ver: '2.0' }, { kid: issuer.currentKid(), key: stranger });
        expect((await call(api, forged)).status).toBe(401);
      }
      expect(host.requests.map((request) => request.path)).toEqual(['/common/discovery/v2.0/keys']);
      expect((await call(api, await v2Token({ tid: TENANT }, THIRD_TENANT))).status).toBe(401);
      // Not an Entra issuer at all: never trusted, whatever it claims.
      const foreign = await issuer.sign({ iss: 'https://evil.example/', aud: APP_ID, tid: THIRD_TENANT, ver: '2.0' });
      expect((await call(api, foreign)).body.error_description).toBe("the token's issuer is not trusted here");
    } finally {
      await api.close();
    }
  });

  it('"common" is not a tenant: the error says how to accept every tenant', () => {
    expect(() => entraId({ tenant: 'common', audience: APP_ID })).toThrow(/^entraId: "tenant" must be tenant ids \(GUIDs\).*pass "anyTenant: true"/);
    expect(() => entraId({ audience: APP_ID })).toThrow('entraId: "tenant" is required');
    expect(() => entraId({ tenant: TENANT, anyTenant: true, audience: APP_ID })).toThrow('entraId: give "tenant" or "anyTenant: true", not both');
    expect(() => entraId({ tenant: TENANT, audience: APP_ID, version: '3.0' as never })).toThrow(`entraId: "version" must be '2.0', '1.0' or 'both'`);
  });
});

describe('entraId.client(): client credentials from Entra ID', () => {
  it("POSTs to the tenant's v2.0 token endpoint with scope <resource>/.default and the secret in the body", async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: ['api://billing'], scopes: ['api://billing/.default'] });
    const provider = clientCredentials(entraId.client({ tenant: TENANT, clientId, clientSecret, scope: 'api://billing/.default', loginBaseURL: host.url }));
    try {
      await provider.getToken();
      expect(host.requests.at(-1)?.path).toBe(`/${TENANT}/oauth2/v2.0/token`);
      const request = issuer.lastTokenRequest!;
      expect(request.headers.authorization).toBeUndefined();
      expect(request.params).toEqual({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: 'api://billing/.default' });
    } finally {
      provider.close();
    }
  });

  it('a certificate: private_key_jwt whose header carries the x5t#S256 and x5t thumbprints, aud the token endpoint', async () => {
    const dir = join(__dirname, '../fixtures/tls');
    const certificate = readFileSync(join(dir, 'localhost-cert.pem'), 'utf8');
    const privateKey = readFileSync(join(dir, 'localhost-key.pem'), 'utf8');
    const der = new X509Certificate(certificate).raw;
    let assertion = '';
    const entra = await providerHost(issuer, [[/\/oauth2\/v2\.0\/token$/, async (request) => {
      assertion = new URLSearchParams(request.body).get('client_assertion') ?? '';
      return { status: 200, body: { access_token: await issuer.accessToken({ audience: 'api://billing' }), token_type: 'Bearer', expires_in: 3600 } };
    }]]);
    const provider = clientCredentials(entraId.client({ tenant: TENANT, clientId: CLIENT, privateKey, certificate, scope: 'api://billing/.default', loginBaseURL: entra.url }));
    try {
      await provider.getToken();
      const { header, payload } = decodeJwt(assertion);
      expect(header).toMatchObject({
        typ: 'JWT', 'x5t#S256': createHash('sha256').update(der).digest('base64url'), x5t: createHash('sha1').update(der).digest('base64url'),
      });
      expect(payload).toMatchObject({ iss: CLIENT, sub: CLIENT, aud: `${entra.url}/${TENANT}/oauth2/v2.0/token` });
      await expect(jwtVerify(assertion, new X509Certificate(certificate).publicKey)).resolves.toBeDefined();
      expect(new URLSearchParams(entra.requests[0]!.body).get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    } finally {
      provider.close();
      await entra.close();
    }
  });

  it('bad inputs throw a TypeError naming the option', () => {
    const base = { tenant: TENANT, clientId: CLIENT, clientSecret: 's' };
    expect(() => entraId.client({ ...base, scope: 'api://billing/Orders.Read' })).toThrow(/^entraId\.client: "scope" must be one '<resource>\/\.default'/);
    expect(entraId.client({ ...base, tenant: 'contoso.onmicrosoft.com', scope: 'api://billing/.default' }).tokenEndpoint)
      .toBe('https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token');
    expect(() => entraId.client({ tenant: TENANT, clientId: CLIENT, privateKey: 'pem', scope: 'api://billing/.default' })).toThrow('entraId.client: "certificate" is required');
    const dir = join(__dirname, '../fixtures/tls');
    expect(() => clientCredentials({
      tokenEndpoint: 'https://login.example/token', clientId: 'c', privateKey: readFileSync(join(dir, 'localhost-key.pem'), 'utf8'), privateKeyCertificate: 'not a certificate',
    })).toThrow('clientCredentials: "privateKeyCertificate" must be an X.509 certificate in PEM');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(() => clientCredentials({
      tokenEndpoint: 'https://login.example/token', clientId: 'c', privateKey: other, privateKeyCertificate: readFileSync(join(dir, 'localhost-cert.pem'), 'utf8'),
    })).toThrow('clientCredentials: "privateKeyCertificate" must be the certificate of "privateKey" (its public key differs)');
    expect(() => clientCredentials({
      tokenEndpoint: 'https://login.example/token', clientId: 'c', clientSecret: 's', privateKeyCertificate: readFileSync(join(dir, 'localhost-cert.pem'), 'utf8'),
    })).toThrow('clientCredentials: "privateKeyCertificate" applies only to private_key_jwt');
  });
});
