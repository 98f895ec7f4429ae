/**
 * Microsoft Entra ID's keys name the issuer they sign for (the JWK `issuer` member: a `{tenantid}`
 * template on the common keys, one tenant's issuer on a key that belongs to one tenant). With
 * `anyTenant: true` one common key set serves every tenant, so the key that verifies a token must
 * name the token's tenant (Microsoft.IdentityModel's signing-key issuer validation): otherwise a
 * key published for one tenant would sign for all.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { entraId } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { issuerFits } from '../../src/keys/key-set.js';
import { call, protectedApi, providerHost, type ProviderHost } from './support.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TENANT = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';
const APP_ID = 'c1f3a3a8-0d5e-4c8e-9b8a-2b1b6c1f0a11';
const STS = 'http://sts.localhost';

let issuer: LocalIssuer;
let host: ProviderHost;
const keys: Record<'common' | 'tenant' | 'bare', KeyObject> = {
  common: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  tenant: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  bare: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
};

beforeAll(async () => {
  issuer = await createLocalIssuer();
  host = await providerHost(issuer, [
    [/^\/common\/discovery\/v2\.0\/keys$/, async () => ({
      status: 200,
      body: {
        keys: [
          { ...jwk(keys.common), kid: 'common', issuer: `${host.url}/{tenantid}/v2.0` },
          { ...jwk(keys.tenant), kid: 'tenant', issuer: `${host.url}/${TENANT}/v2.0` },
          { ...jwk(keys.bare), kid: 'bare' },
        ],
      },
    })],
  ]);
});
afterAll(async () => {
  await host.close();
  await issuer.close();
});

function jwk(privateKey: KeyObject): Record<string, unknown> {
  return { ...(privateKey.export({ format: 'jwk' }) as Record<string, unknown>), d: undefined, p: undefined, q: undefined, dp: undefined, dq: undefined, qi: undefined, use: 'sig', kty: 'RSA' };
}

function token(kid: keyof typeof keys, tenant: string, version: '1.0' | '2.0' = '2.0'): Promise<string> {
  const iss = version === '2.0' ? `${host.url}/${tenant}/v2.0` : `${STS}/${tenant}/`;
  return issuer.sign({ iss, aud: APP_ID, tid: tenant, ver: version, azp: 'c', appid: 'c', roles: [] }, { kid, key: keys[kid] });
}

describe("entraId({ anyTenant: true }): the signing key's own issuer must fit the token's tenant", () => {
  let api: Awaited<ReturnType<typeof protectedApi>>;
  beforeAll(async () => {
    api = await protectedApi(entraId({ anyTenant: true, audience: APP_ID, loginBaseURL: host.url, stsBaseURL: STS, version: 'both' }));
  });
  afterAll(async () => {
    await api.close();
  });

  it('a common key (issuer template {tenantid}) verifies the tokens of every tenant, v2.0 and v1.0', async () => {
    for (const tenant of [TENANT, OTHER_TENANT]) {
      expect((await call(api, await token('common', tenant))).status).toBe(200);
      expect((await call(api, await token('common', tenant, '1.0'))).status).toBe(200);
    }
  });

  it("a key that names one tenant verifies that tenant's tokens (v1.0 too, compared in the v2.0 form)", async () => {
    expect((await call(api, await token('tenant', TENANT))).status).toBe(200);
    expect((await call(api, await token('tenant', TENANT, '1.0'))).status).toBe(200);
  });

  it("a key that names one tenant never verifies another tenant's token: 401 naming the key's issuer", async () => {
    for (const version of ['2.0', '1.0'] as const) {
      const answer = await call(api, await token('tenant', OTHER_TENANT, version));
      expect(answer.status).toBe(401);
      expect(answer.challenge).toMatch(/^Bearer .*error="invalid_token"/);
      expect(answer.body.error_description).toBe(`the key with kid 'tenant' belongs to another issuer (its JWK "issuer" is "${host.url}/${TENANT}/v2.0") than the token's`);
    }
  });

  it('a key without an issuer member is not held to one (as Microsoft.IdentityModel does)', async () => {
    expect((await call(api, await token('bare', OTHER_TENANT))).status).toBe(200);
  });
});

describe('issuerFits: a {tenantid} template stands for exactly one non-empty path segment', () => {
  const template = 'https://login.example/{tenantid}/v2.0';
  it.each([
    ['https://login.example/abc/v2.0', true],
    ['https://login.example//v2.0', false],
    ['https://login.example/a/b/v2.0', false],
    ['https://login.example/abc/v2.0/extra', false],
    ['https://evil.example/abc/v2.0', false],
    ['https://login.example/v2.0', false],
  ])('%s -> %s', (issuerValue, fits) => {
    expect(issuerFits(template, issuerValue)).toBe(fits);
  });

  it('without a template, only the same string fits', () => {
    expect(issuerFits('https://a.example/t/v2.0', 'https://a.example/t/v2.0')).toBe(true);
    expect(issuerFits('https://a.example/t/v2.0', 'https://a.example/t/v2.0/')).toBe(false);
  });
});
