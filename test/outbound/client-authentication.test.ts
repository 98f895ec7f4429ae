/**
 * Client authentication and request shape on the wire (RFC 6749 sections 2.3.1 and 4.4.2, RFC 7523
 * section 2.2, RFC 8707): the local issuer records exactly what the provider sent.
 */
import { createPrivateKey, generateKeyPairSync, KeyObject, type webcrypto } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { clientCredentials } from 'express-m2m';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';

const AUDIENCE = 'https://billing.example.test';
let issuer: LocalIssuer;

beforeAll(async () => {
  issuer = await createLocalIssuer();
});
afterAll(async () => {
  await issuer.close();
});
beforeEach(() => {
  issuer.clearFaults();
  issuer.resetCounts();
});

function last() {
  const request = issuer.lastTokenRequest;
  if (request === undefined) throw new Error('no token request recorded');
  return request;
}

describe('client_secret_basic (RFC 6749 section 2.3.1): id and secret form-encoded, then base64', () => {
  it('is the default with a secret, and survives ":", "+", spaces and non-ASCII in id and secret', async () => {
    const clientId = 'svc:orders+v2 é';
    const clientSecret = 's3cr:et+with space/ü=%';
    issuer.registerClient({ clientId, clientSecret, audiences: [AUDIENCE] });
    const provider = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE });
    const token = await provider.getToken();
    expect(decodeJwt(token).aud).toBe(AUDIENCE);

    const request = last();
    const expected = Buffer.from(
      `${encodeURIComponent(clientId).replace(/%20/g, '+')}:${new URLSearchParams([['', clientSecret]]).toString().slice(1)}`,
    ).toString('base64');
    expect(request.headers.authorization).toBe(`Basic ${expected}`);
    // form-encoding put the reserved characters in percent form before base64
    const decoded = Buffer.from(expected, 'base64').toString('utf8');
    expect(decoded).toBe('svc%3Aorders%2Bv2+%C3%A9:s3cr%3Aet%2Bwith+space%2F%C3%BC%3D%25');
    expect(request.contentType).toBe('application/x-www-form-urlencoded');
    expect(request.params).toEqual({ grant_type: 'client_credentials', audience: AUDIENCE });
    expect(request.body).not.toContain('s3cr');
    await provider.close();
  });
});

describe('client_secret_post (RFC 6749 section 2.3.1)', () => {
  it('sends client_id and client_secret in the body and no Authorization header', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE], scopes: ['invoices:read', 'invoices:write'] });
    const provider = clientCredentials({
      tokenEndpoint: issuer.tokenEndpoint,
      clientId,
      clientSecret: clientSecret as string,
      authMethod: 'client_secret_post',
      audience: AUDIENCE,
      scope: ['invoices:read', 'invoices:write'],
    });
    const set = await provider.getTokenSet();
    expect(set.scope).toBe('invoices:read invoices:write');
    const request = last();
    expect(request.headers.authorization).toBeUndefined();
    expect(request.params).toEqual({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      audience: AUDIENCE,
      scope: 'invoices:read invoices:write',
    });
    await provider.close();
  });
});

describe('private_key_jwt (RFC 7523 section 2.2)', () => {
  it.each([
    ['RSA (RS256 inferred)', () => generateKeyPairSync('rsa', { modulusLength: 2048 }), 'RS256'],
    ['P-256 (ES256 inferred)', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'ES256'],
    ['Ed25519 (EdDSA inferred)', () => generateKeyPairSync('ed25519'), 'EdDSA'],
  ] as const)('signs an assertion with %s: iss = sub = client id, aud = token endpoint, jti, exp 60 s', async (_name, make, alg) => {
    const pair = make();
    const privatePem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const publicPem = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const { clientId } = issuer.registerClient({ publicKey: publicPem, audiences: [AUDIENCE] });
    const provider = clientCredentials({
      tokenEndpoint: issuer.tokenEndpoint,
      clientId,
      privateKey: privatePem,
      privateKeyKid: 'client-key-1',
      audience: AUDIENCE,
    });
    await provider.getToken();
    const first = last();
    expect(first.headers.authorization).toBeUndefined();
    expect(first.params.client_assertion_type).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(first.params.client_id).toBe(clientId);
    expect(first.params.client_secret).toBeUndefined();
    const assertion = first.params.client_assertion as string;
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg, kid: 'client-key-1', typ: 'JWT' });
    const claims = decodeJwt(assertion);
    expect(claims.iss).toBe(clientId);
    expect(claims.sub).toBe(clientId);
    expect(claims.aud).toBe(issuer.tokenEndpoint);
    expect(typeof claims.jti).toBe('string');
    expect((claims.exp as number) - (claims.iat as number)).toBe(60);

    // a new assertion (new jti) for the next request
    await provider.getToken({ forceRefresh: true });
    expect(decodeJwt(last().params.client_assertion as string).jti).not.toBe(claims.jti);
    expect(issuer.counts.token).toBe(2);
    await provider.close();
  });

  // The assertion is signed by node:crypto (src/keys/jws-signer.ts); jose, an independent JWS
  // implementation, must accept it for every algorithm a client key can use.
  it.each([
    ['RS384', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['PS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['PS512', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['ES256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['ES512', () => generateKeyPairSync('ec', { namedCurve: 'P-521' })],
    ['EdDSA', () => generateKeyPairSync('ed25519')],
  ] as const)('an assertion signed with %s verifies with jose against the public key', async (alg, make) => {
    const pair = make();
    const publicPem = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const { clientId } = issuer.registerClient({ publicKey: publicPem, audiences: [AUDIENCE] });
    const provider = clientCredentials({
      tokenEndpoint: issuer.tokenEndpoint, clientId, privateKey: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), privateKeyAlg: alg, audience: AUDIENCE,
    });
    await provider.getToken();
    const { payload, protectedHeader } = await jwtVerify(last().params.client_assertion as string, pair.publicKey, {
      algorithms: [alg], issuer: clientId, subject: clientId, audience: issuer.tokenEndpoint, typ: 'JWT', requiredClaims: ['jti', 'iat', 'exp'],
    });
    expect(protectedHeader.alg).toBe(alg);
    expect(payload.exp! - payload.iat!).toBe(60);
    await provider.close();
  });

  it('accepts a private JWK and uses its alg', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const publicPem = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    // re-import from PEM before exporting as JWK (TOOLCHAIN.md: exporting a fresh generateKeyPairSync key as JWK can hang)
    const jwk = createPrivateKey(pair.privateKey.export({ format: 'pem', type: 'pkcs8' })).export({ format: 'jwk' });
    const { clientId } = issuer.registerClient({ publicKey: publicPem, audiences: [AUDIENCE] });
    const provider = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, privateKey: { ...jwk, alg: 'ES384' } as never, audience: AUDIENCE });
    await provider.getToken();
    expect(decodeProtectedHeader(last().params.client_assertion as string).alg).toBe('ES384');
    await provider.close();
  });

  it('accepts a WebCrypto CryptoKey, non-extractable, as the DPoP key option does', async () => {
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
    const publicPem = KeyObject.from(pair.publicKey).export({ format: 'pem', type: 'spki' }).toString();
    const { clientId } = issuer.registerClient({ publicKey: publicPem, audiences: [AUDIENCE] });
    const provider = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, privateKey: pair.privateKey, audience: AUDIENCE });
    await provider.getToken();
    expect(decodeProtectedHeader(last().params.client_assertion as string).alg).toBe('ES256');
    await provider.close();
  });
});

describe('request parameters: audience, scope, resource (RFC 8707), extraParams, JSON body', () => {
  it('repeats resource in a form body and sends extra parameters', async () => {
    const second = 'https://ledger.example.test';
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE, second] });
    const provider = clientCredentials({
      tokenEndpoint: issuer.tokenEndpoint,
      clientId,
      clientSecret: clientSecret as string,
      resource: [AUDIENCE, second],
      extraParams: { organization: 'org_123' },
    });
    await provider.getToken().catch(() => undefined); // whether the issuer grants two resources is its business
    expect(last().body).toContain(`resource=${encodeURIComponent(AUDIENCE)}&resource=${encodeURIComponent(second)}`);
    expect(last().params).toMatchObject({ resource: [AUDIENCE, second], organization: 'org_123' });
    await provider.close();
  });

  it('sends a JSON body with bodyFormat "json" (Auth0 accepts it), still authenticating with Basic', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE], scopes: ['a', 'b'] });
    const provider = clientCredentials({
      tokenEndpoint: issuer.tokenEndpoint,
      clientId,
      clientSecret: clientSecret as string,
      audience: AUDIENCE,
      scope: 'a b',
      bodyFormat: 'json',
    });
    await provider.getToken();
    const request = last();
    expect(request.contentType).toBe('application/json');
    expect(JSON.parse(request.body)).toEqual({ grant_type: 'client_credentials', audience: AUDIENCE, scope: 'a b' });
    expect(request.headers.authorization).toMatch(/^Basic /);
    await provider.close();
  });

  it('finds the token endpoint through discovery with issuerBaseURL', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] });
    const provider = clientCredentials({ issuerBaseURL: issuer.url, clientId, clientSecret: clientSecret as string, audience: AUDIENCE });
    await provider.getToken();
    expect(issuer.counts.discovery).toBeGreaterThanOrEqual(1);
    expect(issuer.counts.token).toBe(1);
    await provider.close();
  });
});
