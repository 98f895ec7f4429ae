/**
 * Keys (rotation, static key export) and `sign()` for deliberately broken tokens: the attack
 * catalogue of the inbound tests depends on these tokens being exactly what they claim to be.
 */
import { createHmac, createPublicKey, generateKeyPairSync, verify as cryptoVerify } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, generateKeyPair, importSPKI, jwtVerify } from 'jose';
import { LOCAL_ISSUER_ALGORITHMS, createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';
import { MetadataDiscovery } from 'express-m2m/extend';

let issuer: LocalIssuer;

beforeAll(async () => {
  issuer = await createLocalIssuer();
});
afterAll(() => issuer.close());

async function servedKids(target: LocalIssuer = issuer): Promise<string[]> {
  const jwks = (await (await fetch(target.jwksUri)).json()) as { keys: { kid: string }[] };
  return jwks.keys.map((key) => key.kid);
}

function segments(token: string): [Record<string, unknown>, Record<string, unknown>, string] {
  const [header, payload, signature] = token.split('.');
  return [
    JSON.parse(Buffer.from(header!, 'base64url').toString()) as Record<string, unknown>,
    JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>,
    signature!,
  ];
}

describe('key rotation: the JWKS serves the current and the previous key', () => {
  it('rotateKeys() returns the new kid, signs with it, and keeps serving the previous one', async () => {
    const before = issuer.currentKid();
    const oldToken = await issuer.sign({ aud: 'a' });
    const kid = issuer.rotateKeys();
    expect(kid).not.toBe(before);
    expect(issuer.currentKid()).toBe(kid);
    expect(await servedKids()).toEqual([before, kid]);
    const newToken = await issuer.sign({ aud: 'a' });
    expect(decodeProtectedHeader(newToken).kid).toBe(kid);
    const jwks = createRemoteJWKSet(new URL(issuer.jwksUri));
    await expect(jwtVerify(oldToken, jwks)).resolves.toBeDefined();
    await expect(jwtVerify(newToken, jwks)).resolves.toBeDefined();
  });

  it('a second rotation drops the oldest key; keepPrevious: false drops the previous one too', async () => {
    const first = issuer.currentKid();
    const second = issuer.rotateKeys();
    const third = issuer.rotateKeys();
    expect(await servedKids()).toEqual([second, third]);
    expect(await servedKids()).not.toContain(first);
    const fourth = issuer.rotateKeys({ keepPrevious: false });
    expect(await servedKids()).toEqual([fourth]);
  });

  it('addKey() adds a key of another algorithm, removeKey() stops serving it', async () => {
    const kid = issuer.addKey('ES384');
    expect(await servedKids()).toContain(kid);
    const token = await issuer.sign({ aud: 'a' }, { kid });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES384', kid });
    expect(issuer.removeKey(kid)).toBe(true);
    expect(await servedKids()).not.toContain(kid);
    await expect(jwtVerify(token, createRemoteJWKSet(new URL(issuer.jwksUri)))).rejects.toThrow();
  });

  it('serves Cache-Control from jwksCacheControl', async () => {
    const cached = await createLocalIssuer({ jwksCacheControl: 'public, max-age=600' });
    try {
      expect((await fetch(cached.jwksUri)).headers.get('cache-control')).toBe('public, max-age=600');
    } finally {
      await cached.close();
    }
    expect((await fetch(issuer.jwksUri)).headers.get('cache-control')).toBeNull();
  });
});

describe('key uniqueness (spare keys generated in the background are handed out once)', () => {
  it('no two issuers, and no two rotations, get the same key material', async () => {
    const a = await createLocalIssuer();
    const b = await createLocalIssuer();
    try {
      const moduli = new Set<string>();
      for (const target of [a, b]) {
        moduli.add(String(target.keys.keys[0]!.n));
        target.rotateKeys();
        target.rotateKeys();
        for (const key of target.keys.keys) moduli.add(String(key.n));
      }
      // a: 3 keys generated, b: 3 keys generated; every JWKS has served distinct moduli
      expect(moduli.size).toBe(6);
      const token = await a.sign({ aud: 'x' });
      await expect(jwtVerify(token, createLocalJWKSet(b.publicJwks()))).rejects.toThrow();
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('every supported algorithm verifies from the served JWKS', () => {
  it.each([...LOCAL_ISSUER_ALGORITHMS])('%s', async (alg) => {
    const token = await issuer.sign({ sub: 's@clients', aud: 'a' }, { alg });
    const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(issuer.publicJwks()), { algorithms: [alg] });
    expect(protectedHeader.alg).toBe(alg);
    const jwk = issuer.keys.keys.find((key) => key.kid === protectedHeader.kid);
    expect(jwk).toMatchObject({ alg, use: 'sig' });
    expect(jwk).not.toHaveProperty('d');
  });
});

describe('static keys for key-source tests', () => {
  it('publicKeyPem() verifies the current key\'s tokens', async () => {
    const token = await issuer.sign({ aud: 'a' });
    const key = await importSPKI(issuer.publicKeyPem(), 'RS256');
    await expect(jwtVerify(token, key)).resolves.toBeDefined();
    expect(() => issuer.publicKeyPem('no-such-kid')).toThrow(/kid/);
  });
});

describe('sign(): defaults and deliberately broken tokens', () => {
  it('fills defaults unless present; noDefaults and exp: undefined leave exp out', async () => {
    const [, filled] = segments(await issuer.sign({ aud: 'a', iat: 1000 }, { expiresIn: 10 }));
    expect(filled).toMatchObject({ iss: issuer.issuer, iat: 1000, exp: 1010 });
    const [header, bare] = segments(await issuer.sign({ aud: 'a' }, { noDefaults: true }));
    expect(bare).toEqual({ aud: 'a' });
    expect(header).not.toHaveProperty('typ');
    const [, noExp] = segments(await issuer.sign({ aud: 'a', exp: undefined }));
    expect(noExp).not.toHaveProperty('exp');
    expect(noExp).toHaveProperty('iat');
  });

  it('alg none: an unsigned token with an empty signature', async () => {
    const token = await issuer.sign({ aud: 'a' }, { alg: 'none' });
    const [header, , signature] = segments(token);
    expect(header.alg).toBe('none');
    expect(signature).toBe('');
    expect(token.endsWith('.')).toBe(true);
  });

  it('HS256 signed with the RSA public key PEM (algorithm confusion)', async () => {
    const pem = issuer.publicKeyPem();
    const token = await issuer.sign({ aud: 'a' }, { alg: 'HS256', key: pem });
    const [header] = segments(token);
    expect(header).toMatchObject({ alg: 'HS256', kid: issuer.currentKid() });
    const [h, p, s] = token.split('.');
    expect(createHmac('sha256', pem).update(`${h}.${p}`).digest('base64url')).toBe(s);
    await expect(issuer.sign({}, { alg: 'HS256' })).rejects.toThrow(/key/);
  });

  it('HS256 with arbitrary bytes verifies with the same bytes', async () => {
    const secret = new TextEncoder().encode('a-shared-secret-of-32-bytes-len!');
    const token = await issuer.sign({ aud: 'a' }, { alg: 'HS256', key: secret });
    await expect(jwtVerify(token, secret)).resolves.toBeDefined();
  });

  it('wrong key, right kid: header names the current kid, the JWKS key does not verify it', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = await issuer.sign({ aud: 'a' }, { key: privateKey });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', kid: issuer.currentKid() });
    await expect(jwtVerify(token, createLocalJWKSet(issuer.publicJwks()))).rejects.toThrow(/signature/);
    expect(cryptoVerify('sha256', Buffer.from(token.split('.').slice(0, 2).join('.')), createPublicKey(privateKey), Buffer.from(token.split('.')[2]!, 'base64url'))).toBe(true);
  });

  it('any header: crit, jku, x5u, jwk, x5c, typ, unknown kid, and removal with undefined', async () => {
    const header = {
      crit: ['urn:unknown'],
      'urn:unknown': true,
      jku: 'https://evil.example/jwks.json',
      x5u: 'https://evil.example/cert.pem',
      jwk: { kty: 'oct', k: 'AAAA' },
      x5c: ['MIIB'],
      typ: 'JWT',
    };
    const token = await issuer.sign({ aud: 'a' }, { header, kid: 'made-up-kid' });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', kid: 'made-up-kid', ...header });
    // signed by the current key although the kid is unknown
    const [h, p, s] = token.split('.');
    expect(cryptoVerify('sha256', Buffer.from(`${h}.${p}`), createPublicKey(issuer.publicKeyPem()), Buffer.from(s!, 'base64url'))).toBe(true);
    const withoutKid = await issuer.sign({ aud: 'a' }, { header: { kid: undefined, typ: undefined } });
    expect(decodeProtectedHeader(withoutKid)).toEqual({ alg: 'RS256' });
  });

  it('a lying alg header: header says ES256, signature is RS256', async () => {
    const token = await issuer.sign({ aud: 'a' }, { header: { alg: 'ES256' } });
    expect(decodeProtectedHeader(token).alg).toBe('ES256');
    expect(decodeJwt(token).aud).toBe('a');
  });

  it('rawHeader / rawPayload: a validly signed token whose segments are not JSON', async () => {
    const token = await issuer.sign({}, { rawPayload: 'not json', rawHeader: '{"alg":"RS256",' });
    const [h, p, s] = token.split('.');
    expect(Buffer.from(h!, 'base64url').toString()).toBe('{"alg":"RS256",');
    expect(Buffer.from(p!, 'base64url').toString()).toBe('not json');
    expect(cryptoVerify('sha256', Buffer.from(`${h}.${p}`), createPublicKey(issuer.publicKeyPem()), Buffer.from(s!, 'base64url'))).toBe(true);
  });

  it('signs with a WebCrypto CryptoKey from jose (default alg from the key, issuer kid)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const token = await issuer.sign({ aud: 'a' }, { key: privateKey });
    expect(decodeProtectedHeader(token).alg).toBe('ES256');
    await expect(jwtVerify(token, publicKey)).resolves.toBeDefined();
  });

  it('uses the injected clock for iat and exp', async () => {
    const clocked = await createLocalIssuer({ alg: 'ES256', now: () => 1_700_000_000_500 });
    try {
      const [, payload] = segments(await clocked.sign({ aud: 'a' }));
      expect(payload).toMatchObject({ iat: 1_700_000_000, exp: 1_700_003_600 });
    } finally {
      await clocked.close();
    }
  });

  it('rejects an unknown algorithm with a message naming "alg"', async () => {
    await expect(issuer.sign({}, { alg: 'XX999' })).rejects.toThrow(/"alg"/);
  });
});

describe('discovery interoperability (src/discovery, trailing-slash rule)', () => {
  it('MetadataDiscovery accepts the issuer at issuer.url', async () => {
    const metadata = await new MetadataDiscovery(issuer.url).get();
    expect(metadata).toMatchObject({ issuer: issuer.issuer, jwks_uri: issuer.jwksUri, token_endpoint: issuer.tokenEndpoint });
  });

  it('a path prefix: URLs carry it and both OIDC and RFC 8414 (path-inserted) documents are served', async () => {
    const tenant = await createLocalIssuer({ path: '/tenant-a' });
    try {
      expect(tenant.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/tenant-a$/);
      expect(tenant.jwksUri).toBe(`${tenant.url}/.well-known/jwks.json`);
      const origin = new URL(tenant.url).origin;
      const rfc8414 = await fetch(`${origin}/.well-known/oauth-authorization-server/tenant-a`);
      expect(((await rfc8414.json()) as { issuer: string }).issuer).toBe(tenant.issuer);
      const metadata = await new MetadataDiscovery(tenant.url).get();
      expect(metadata.token_endpoint).toBe(tenant.tokenEndpoint);
    } finally {
      await tenant.close();
    }
  });
});

describe('createLocalIssuer option validation', () => {
  it('names the bad option', async () => {
    await expect(createLocalIssuer({ alg: 'HS256' as never })).rejects.toThrow(/"alg"/);
    await expect(createLocalIssuer({ tokenLifetime: 0 })).rejects.toThrow(/"tokenLifetime"/);
    await expect(createLocalIssuer({ path: 'no-slash' })).rejects.toThrow(/"path"/);
    await expect(createLocalIssuer({ clients: [{ clientId: 'x', audiences: 'a' as never }] })).rejects.toThrow(/clients\[0\].*"audiences"/);
  });
});
