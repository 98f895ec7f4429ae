/**
 * One describe per check of issue 2 ("Verifies the JWT"), on tokens signed with fixed keys and a
 * fake clock. JWKS, discovery and every algorithm against the real local issuer are in
 * verifier-jwks.test.ts; the verified-token cache in verified-token-cache.test.ts.
 */
import type { KeyObject } from 'node:crypto';
import { createVerifier, InvalidTokenError, type VerifierOptions } from 'express-m2m';
import { FixedKeySource, b64u, ecPair, rsaPair, secretKey, settle, signRaw, type KeyPair } from './support.js';

const NOW = 1_800_000_000;
const ISS = 'https://issuer.example/';
const AUD = 'https://api.example';

let rsa: KeyPair;
let otherRsa: KeyPair;
let ec: KeyPair;
let clock: number;

beforeAll(() => {
  rsa = rsaPair();
  otherRsa = rsaPair();
  ec = ecPair('P-256');
});
beforeEach(() => {
  clock = NOW * 1000;
});

function claims(patch: Record<string, unknown> = {}): Record<string, unknown> {
  const all: Record<string, unknown> = { iss: ISS, aud: AUD, sub: 'svc@clients', iat: NOW - 10, exp: NOW + 600, scope: 'read:a write:b', ...patch };
  for (const [name, value] of Object.entries(patch)) if (value === undefined) delete all[name];
  return all;
}

function token(patch: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key: KeyObject = rsa.privateKey): string {
  const h: Record<string, unknown> = { alg: 'RS256', typ: 'at+jwt', kid: 'k1', ...header };
  for (const [name, value] of Object.entries(header)) if (value === undefined) delete h[name];
  return signRaw(h.alg as string, key, h, claims(patch));
}

function verifier(options: Partial<VerifierOptions> = {}, keys: Map<string, KeyObject> = new Map([['*', rsa.publicKey]])) {
  const keySource = new FixedKeySource(keys, ['RS256', 'ES256']);
  const v = createVerifier({ issuer: ISS, audience: AUD, keySource, now: () => clock, verifiedTokenCache: false, ...options });
  return { v, keySource };
}

async function rejection(v: { verify(t: string): unknown }, t: string): Promise<InvalidTokenError> {
  const result = await settle(() => v.verify(t));
  if (result.ok) throw new Error('expected the token to be rejected');
  expect(result.error).toBeInstanceOf(InvalidTokenError);
  const error = result.error as InvalidTokenError;
  expect(error.status).toBe(401);
  expect(error.headers['WWW-Authenticate']).toMatch(/^Bearer error="invalid_token"/);
  return error;
}

async function expectCode(t: string, code: string, options: Partial<VerifierOptions> = {}): Promise<InvalidTokenError> {
  const error = await rejection(verifier(options).v, t);
  expect(error.code).toBe(code);
  return error;
}

async function expectAccepted(t: string, options: Partial<VerifierOptions> = {}) {
  return verifier(options).v.verify(t);
}

describe('success: { token, header, payload, scopes }, deeply frozen', () => {
  test('returns the token, its protected header, its claims and the parsed scopes', async () => {
    const t = token();
    const result = await expectAccepted(t);
    expect(result.token).toBe(t);
    expect(result.header).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: 'k1' });
    expect(result.payload).toEqual(claims());
    expect(result.scopes).toEqual(['read:a', 'write:b']);
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(result.payload)).toBe(true);
    expect(Object.isFrozen(result.header)).toBe(true);
    expect(Object.isFrozen(result.scopes)).toBe(true);
  });

  test('nested claims are frozen too', async () => {
    const result = await expectAccepted(token({ ext: { roles: ['a'] } }));
    const ext = result.payload.ext as { roles: string[] };
    expect(Object.isFrozen(ext)).toBe(true);
    expect(Object.isFrozen(ext.roles)).toBe(true);
  });

  test('answers synchronously when the key is at hand, with a promise when the key source is async', async () => {
    const { v, keySource } = verifier();
    const t = token();
    expect(v.verify(t)).not.toBeInstanceOf(Promise);
    keySource.asyncKeys = true;
    const pending = v.verify(t);
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).resolves.toMatchObject({ token: t });
  });
});

describe('size: tokens longer than maxTokenLength are refused before any parsing or crypto', () => {
  test('default 8192 characters', async () => {
    const { v, keySource } = verifier();
    const big = token({ pad: 'x'.repeat(9000) });
    const error = await rejection(v, big);
    expect(error.code).toBe('ERR_TOKEN_TOO_LARGE');
    expect(keySource.calls).toEqual([]);
  });

  test('a token of exactly maxTokenLength passes the size check', async () => {
    const t = token();
    await expect(expectAccepted(t, { maxTokenLength: t.length })).resolves.toBeDefined();
    await expectCode(t, 'ERR_TOKEN_TOO_LARGE', { maxTokenLength: t.length - 1 });
  });

  test('the size check comes first even for garbage', async () => {
    await expectCode('!'.repeat(10_000), 'ERR_TOKEN_TOO_LARGE');
  });
});

describe('structure: a compact JWS of three base64url segments of JSON objects', () => {
  const cases: [string, () => string][] = [
    ['empty string', () => ''],
    ['no dots', () => 'abc'],
    ['two segments', () => token().split('.').slice(0, 2).join('.')],
    ['four segments', () => `${token()}.x`],
    ['header not base64url', () => `!!!.${token().split('.').slice(1).join('.')}`],
    ['header not JSON', () => `${b64u('{"alg":"RS256"')}.${token().split('.').slice(1).join('.')}`],
    ['header a JSON array', () => `${b64u('["RS256"]')}.${token().split('.').slice(1).join('.')}`],
    ['header of one base64url character too many', () => `${token().split('.')[0]}A.${token().split('.').slice(1).join('.')}`],
  ];
  test.each(cases)('%s -> ERR_JWT_MALFORMED', async (_name, make) => {
    await expectCode(make(), 'ERR_JWT_MALFORMED');
  });

  test.each([
    ['not JSON', '{"exp":'],
    ['a JSON array', '[1,2]'],
    ['a JSON string', '"claims"'],
    ['null', 'null'],
  ])('a validly signed payload that is %s -> ERR_JWT_MALFORMED', async (_name, raw) => {
    const t = signRaw('RS256', rsa.privateKey, { alg: 'RS256' }, new TextEncoder().encode(raw));
    await expectCode(t, 'ERR_JWT_MALFORMED');
  });

  test('a payload segment that is not base64url fails (signature first, as jose)', async () => {
    const [h, , s] = token().split('.');
    await expectCode(`${h}.@@@@.${s}`, 'ERR_JWT_SIGNATURE_INVALID');
  });

  test('a kid that is not a string -> ERR_JWT_MALFORMED', async () => {
    await expectCode(token({}, { kid: 42 }), 'ERR_JWT_MALFORMED');
  });

  test('a non-string token -> ERR_JWT_MALFORMED, never a crash', async () => {
    await expectCode(undefined as unknown as string, 'ERR_JWT_MALFORMED');
    await expectCode({} as unknown as string, 'ERR_JWT_MALFORMED');
  });
});

describe('alg: in the allowlist, never none, and fitting the key', () => {
  test('alg none is refused (unsigned and with a signature)', async () => {
    const [, p, s] = token().split('.');
    await expectCode(`${b64u('{"alg":"none"}')}.${p}.`, 'ERR_JWT_ALG_NOT_ALLOWED');
    await expectCode(`${b64u('{"alg":"none"}')}.${p}.${s}`, 'ERR_JWT_ALG_NOT_ALLOWED');
  });

  test('a missing or non-string alg -> ERR_JWT_MALFORMED', async () => {
    await expectCode(signRaw('RS256', rsa.privateKey, { typ: 'JWT' }, claims()), 'ERR_JWT_MALFORMED');
    const [, p, s] = token().split('.');
    await expectCode(`${b64u('{"alg":256}')}.${p}.${s}`, 'ERR_JWT_MALFORMED');
  });

  test('an alg outside the allowlist is refused before any key lookup', async () => {
    const { v, keySource } = verifier({ algorithms: ['ES256'] });
    const error = await rejection(v, token());
    expect(error.code).toBe('ERR_JWT_ALG_NOT_ALLOWED');
    expect(keySource.calls).toEqual([]);
  });

  test('HS256 signed with the RSA public key (HS/RS confusion) is refused: HS is not allowed without a secret', async () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const { createSecretKey } = await import('node:crypto');
    const t = signRaw('HS256', createSecretKey(Buffer.from(pem)), { alg: 'HS256', kid: 'k1' }, claims());
    await expectCode(t, 'ERR_JWT_ALG_NOT_ALLOWED');
  });

  test('even if a key source hands out a key that does not fit the alg, the verifier refuses it', async () => {
    const t = token();
    const mismatched = verifier({}, new Map([['*', ec.publicKey]])).v;
    expect((await rejection(mismatched, t)).code).toBe('ERR_JWT_KEY_MISMATCH');
    const hs = createVerifier({ issuer: ISS, audience: AUD, keySource: new FixedKeySource(new Map([['*', rsa.publicKey]]), ['HS256']), now: () => clock });
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const { createSecretKey } = await import('node:crypto');
    const confused = signRaw('HS256', createSecretKey(Buffer.from(pem)), { alg: 'HS256' }, claims());
    expect((await rejection(hs, confused)).code).toBe('ERR_JWT_KEY_MISMATCH');
  });

  test('ES256 from a P-256 key verifies; the same token against a P-384 key does not', async () => {
    const t = token({}, { alg: 'ES256' }, ec.privateKey);
    await expect(verifier({}, new Map([['*', ec.publicKey]])).v.verify(t)).toMatchObject({ token: t });
    const p384 = ecPair('P-384');
    expect((await rejection(verifier({}, new Map([['*', p384.publicKey]])).v, t)).code).toBe('ERR_JWT_KEY_MISMATCH');
  });
});

describe('signature', () => {
  test('a flipped byte in the header, payload or signature -> rejected', async () => {
    const t = token();
    const [h, p, s] = t.split('.') as [string, string, string];
    const flip = (x: string, i: number) => x.slice(0, i) + (x[i] === 'A' ? 'B' : 'A') + x.slice(i + 1);
    await expectCode(`${h}.${flip(p, 5)}.${s}`, 'ERR_JWT_SIGNATURE_INVALID');
    await expectCode(`${h}.${p}.${flip(s, 5)}`, 'ERR_JWT_SIGNATURE_INVALID');
    // A header edit that still parses changes the signing input.
    await expectCode(`${b64u('{"alg":"RS256","kid":"k2"}')}.${p}.${s}`, 'ERR_JWT_SIGNATURE_INVALID');
  });

  test('signed by another key under the right kid -> rejected', async () => {
    await expectCode(token({}, {}, otherRsa.privateKey), 'ERR_JWT_SIGNATURE_INVALID');
  });

  test('a truncated or empty signature -> rejected', async () => {
    const t = token();
    await expectCode(t.slice(0, -4), 'ERR_JWT_SIGNATURE_INVALID');
    await expectCode(t.slice(0, t.lastIndexOf('.') + 1), 'ERR_JWT_SIGNATURE_INVALID');
  });
});

describe('crit: any "crit" header is refused (no extension is understood)', () => {
  test.each([[['exp']], [['b64']], [[]], ['x']])('crit %j -> ERR_JWT_CRIT', async (crit) => {
    await expectCode(token({}, { crit, exp: 1, b64: true }), 'ERR_JWT_CRIT');
  });
});

describe('jku, x5u, jwk, x5c are never used to find a key: only alg and kid reach the key source', () => {
  test('a token signed by an attacker key it embeds as jwk/jku is refused and the key source sees only { alg, kid }', async () => {
    const attacker = rsaPair();
    const jwk = attacker.publicKey.export({ format: 'jwk' });
    const t = token({}, { jwk, jku: 'http://127.0.0.1:1/jwks', x5u: 'http://127.0.0.1:1/cert', x5c: ['MIIB'] }, attacker.privateKey);
    const { v, keySource } = verifier();
    expect((await rejection(v, t)).code).toBe('ERR_JWT_SIGNATURE_INVALID');
    expect(keySource.calls).toEqual([{ alg: 'RS256', kid: 'k1' }]);
  });

  test('the same headers on a token signed by the real key do not matter', async () => {
    await expect(expectAccepted(token({}, { jku: 'http://127.0.0.1:1/jwks', x5c: ['MIIB'] }))).resolves.toBeDefined();
  });
});

describe('typ: default accepts at+jwt, application/at+jwt, JWT and none; strictTokenType only at+jwt (RFC 9068)', () => {
  test.each(['at+jwt', 'application/at+jwt', 'AT+JWT', 'JWT', 'jwt', 'application/jwt', undefined])('default accepts typ %s', async (typ) => {
    await expect(expectAccepted(token({}, { typ }))).resolves.toBeDefined();
  });
  test.each(['dpop+jwt', 'JOSE', 'id_token', '', 1])('default refuses typ %j', async (typ) => {
    await expectCode(token({}, { typ }), 'ERR_JWT_TYP');
  });
  test.each(['at+jwt', 'application/at+jwt'])('strict accepts typ %s', async (typ) => {
    await expect(expectAccepted(token({}, { typ }), { strictTokenType: true })).resolves.toBeDefined();
  });
  test.each(['JWT', undefined, 'application/jwt'])('strict refuses typ %s', async (typ) => {
    await expectCode(token({}, { typ }), 'ERR_JWT_TYP', { strictTokenType: true });
  });
});

describe('iss: exact match', () => {
  test.each([
    ['other issuer', 'https://evil.example/', 'ERR_JWT_ISSUER'],
    ['missing trailing slash', 'https://issuer.example', 'ERR_JWT_ISSUER'],
    ['different case', 'https://ISSUER.example/', 'ERR_JWT_ISSUER'],
    ['an array (a claim of the wrong type)', [ISS], 'ERR_JWT_CLAIM_INVALID'],
    ['missing', undefined, 'ERR_JWT_CLAIM_MISSING'],
  ])('iss %s: refused', async (_name, iss, code) => {
    await expectCode(token({ iss }), code as string);
  });
});

describe('iss: exact match, never a prefix match either way (README "iss exact match"; RFC 9068 section 4)', () => {
  // An issuer whose URL extends the configured one (another tenant on the same host, a path an
  // attacker controls) or is a prefix of it is another issuer: 401 invalid_token ERR_JWT_ISSUER.
  test.each([
    ['extends it with a path after the trailing slash', ISS, 'https://issuer.example/tenant'],
    ['extends it with another path', ISS, 'https://issuer.example/evil'],
    ['extends it with a slash', ISS, 'https://issuer.example//'],
    ['extends a configured issuer without trailing slash by a path', 'https://issuer.example', 'https://issuer.example/evil'],
    ['extends a configured issuer without trailing slash by a host suffix', 'https://issuer.example', 'https://issuer.example.evil.test'],
    ['is the configured issuer with a query', ISS, 'https://issuer.example/?tenant=evil'],
    ['is a prefix of it (the parent of a tenant path)', 'https://issuer.example/tenant/', ISS],
    ['is a prefix of it (without the trailing slash)', 'https://issuer.example/tenant/', 'https://issuer.example/tenant'],
    ['is a prefix of it (the scheme only)', ISS, 'https'],
    ['is the empty string (a prefix of every issuer)', ISS, ''],
  ])('a token whose iss %s is refused', async (_name, configured, iss) => {
    const { v } = verifier({ issuer: configured });
    const error = await rejection(v, token({ iss }));
    expect(error.code).toBe('ERR_JWT_ISSUER');
    // the same token with the configured issuer verifies: only iss made the difference
    await expect(Promise.resolve(v.verify(token({ iss: configured })))).resolves.toMatchObject({ payload: { iss: configured } });
  });
});

describe('aud: a string or an array, any match with the expected audience(s)', () => {
  test.each([
    ['the same string', AUD],
    ['an array containing it', ['https://other.example', AUD]],
  ])('accepts %s', async (_name, aud) => {
    await expect(expectAccepted(token({ aud }))).resolves.toBeDefined();
  });
  test('accepts any of several expected audiences', async () => {
    await expect(expectAccepted(token({ aud: 'https://b.example' }), { audience: ['https://a.example', 'https://b.example'] })).resolves.toBeDefined();
  });
  test.each([
    ['another audience', 'https://other.example', 'ERR_JWT_AUDIENCE'],
    ['an array without it', ['https://other.example'], 'ERR_JWT_AUDIENCE'],
    ['an empty array', [], 'ERR_JWT_AUDIENCE'],
    ['a number (a claim of the wrong type)', 5, 'ERR_JWT_CLAIM_INVALID'],
    ['a prefix of it', 'https://api', 'ERR_JWT_AUDIENCE'],
    ['missing', undefined, 'ERR_JWT_CLAIM_MISSING'],
  ])('refuses aud %s', async (_name, aud, code) => {
    const error = await expectCode(token({ aud }), code as string);
    if (code === 'ERR_JWT_AUDIENCE') expect(error.message).toBe("unexpected 'aud' claim value");
  });
});

describe('RFC 7519 section 4.1, RFC 9068 section 2.2: registered claims of the wrong type are refused whenever present', () => {
  test.each([
    ['sub an object (an injection attempt)', { sub: { $ne: null } }, "'sub' claim must be a string"],
    ['sub a number', { sub: 1 }, "'sub' claim must be a string"],
    ['client_id an array', { client_id: ['x'] }, "'client_id' claim must be a string"],
    ['jti a boolean', { jti: true }, "'jti' claim must be a string"],
    ['iss a number', { iss: 1 }, "'iss' claim must be a string"],
    ['sub null', { sub: null }, "'sub' claim must be a string"],
    ['aud an array with a number', { aud: [AUD, 5] }, "'aud' claim must be a string or an array of strings"],
    ['aud an object', { aud: { 0: AUD } }, "'aud' claim must be a string or an array of strings"],
    ['exp Infinity (1e400 in the JSON)', { exp: 'INFINITY' }, "'exp' claim must be a number"],
    ['nbf -Infinity', { nbf: '-INFINITY' }, "'nbf' claim must be a number"],
  ])('%s -> 401 ERR_JWT_CLAIM_INVALID, with the cache on or off', async (_name, patch, description) => {
    // JSON.stringify cannot write Infinity: the placeholders become 1e400 / -1e400 in the payload text.
    const json = JSON.stringify(claims(patch)).replace('"-INFINITY"', '-1e400').replace('"INFINITY"', '1e400');
    const raw = signRaw('RS256', rsa.privateKey, { alg: 'RS256', typ: 'at+jwt', kid: 'k1' }, Buffer.from(json));
    for (const verifiedTokenCache of [false, true]) {
      const error = await rejection(verifier({ verifiedTokenCache }).v, raw);
      expect(error.code).toBe('ERR_JWT_CLAIM_INVALID');
      expect(error.message).toBe(description);
    }
  });

  test('the same claims of the right type are accepted, and typed as such', async () => {
    const result = await expectAccepted(token({ sub: 'svc@clients', client_id: 'svc', jti: 'j1', aud: [AUD, 'https://b.example'] }));
    const sub: string | undefined = result.payload.sub;
    expect(sub).toBe('svc@clients');
  });
});

describe('RFC 7515 base64url: one token, one spelling (a cache or a replay list keyed on the token depends on it)', () => {
  const respell = (t: string, segment: 0 | 2, change: (text: string) => string) => {
    const parts = t.split('.');
    parts[segment] = change(parts[segment] as string);
    return parts.join('.');
  };
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  test.each([
    ['the signature with "==" padding appended', (t: string) => respell(t, 2, (sig) => `${sig}==`), 'ERR_JWT_SIGNATURE_INVALID'],
    ['the signature\'s last character changed only in its unused bits', (t: string) => respell(t, 2, (sig) => {
      // A 2048-bit RSA signature is 256 bytes: 342 characters, the last one carrying 4 unused bits.
      const last = ALPHABET.indexOf(sig.at(-1) as string);
      return sig.slice(0, -1) + (ALPHABET[last | 1] as string);
    }), 'ERR_JWT_SIGNATURE_INVALID'],
    ['a header segment with a byte order mark', () => signRaw('RS256', rsa.privateKey, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: 'k1' }))]), claims()), 'ERR_JWT_MALFORMED'],
    ['a payload segment with a byte order mark', () => signRaw('RS256', rsa.privateKey, { alg: 'RS256', typ: 'at+jwt', kid: 'k1' }, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(claims()))])), 'ERR_JWT_MALFORMED'],
  ])('%s is refused (401 %s), while the canonical spelling is accepted', async (_name, respelled, code) => {
    const canonical = token();
    await expect(expectAccepted(canonical)).resolves.toBeDefined();
    const other = respelled(canonical);
    expect(other).not.toBe(canonical);
    await expectCode(other, code);
  });
});

describe('exp: required, and past exp (beyond clockTolerance) is expired', () => {
  test('missing exp -> ERR_JWT_CLAIM_MISSING', async () => {
    await expectCode(token({ exp: undefined }), 'ERR_JWT_CLAIM_MISSING');
  });
  test('exp not a number -> ERR_JWT_CLAIM_INVALID', async () => {
    await expectCode(token({ exp: String(NOW + 600) }), 'ERR_JWT_CLAIM_INVALID');
    await expectCode(token({ exp: null }), 'ERR_JWT_CLAIM_INVALID');
  });
  test('boundaries with the default tolerance of 5 s: valid while now < exp + 5', async () => {
    await expect(expectAccepted(token({ exp: NOW - 4 }))).resolves.toBeDefined();
    await expectCode(token({ exp: NOW - 5 }), 'ERR_JWT_EXPIRED');
    await expectCode(token({ exp: NOW - 600 }), 'ERR_JWT_EXPIRED');
  });
  test('clockTolerance 0: exp equal to now is expired', async () => {
    await expect(expectAccepted(token({ exp: NOW + 1 }), { clockTolerance: 0 })).resolves.toBeDefined();
    await expectCode(token({ exp: NOW }), 'ERR_JWT_EXPIRED', { clockTolerance: 0 });
  });
  test('a larger clockTolerance extends validity', async () => {
    await expect(expectAccepted(token({ exp: NOW - 50 }), { clockTolerance: 60 })).resolves.toBeDefined();
  });
});

describe('nbf: not before (beyond clockTolerance)', () => {
  test('nbf up to now + tolerance is accepted; later is not yet valid', async () => {
    await expect(expectAccepted(token({ nbf: NOW + 5 }))).resolves.toBeDefined();
    await expectCode(token({ nbf: NOW + 6 }), 'ERR_JWT_NOT_YET_VALID');
  });
  test('nbf not a number -> ERR_JWT_CLAIM_INVALID', async () => {
    await expectCode(token({ nbf: 'later' }), 'ERR_JWT_CLAIM_INVALID');
  });
});

describe('iat: not in the future (beyond clockTolerance), and a number', () => {
  test('iat up to now + tolerance is accepted; later is refused', async () => {
    await expect(expectAccepted(token({ iat: NOW + 5 }))).resolves.toBeDefined();
    await expectCode(token({ iat: NOW + 6 }), 'ERR_JWT_IAT_FUTURE');
  });
  test('iat is optional by default, but must be a number when present', async () => {
    await expect(expectAccepted(token({ iat: undefined }))).resolves.toBeDefined();
    await expectCode(token({ iat: 'now' }), 'ERR_JWT_CLAIM_INVALID');
  });
});

describe('maxTokenAge: now - iat at most maxTokenAge (+ tolerance); iat then required', () => {
  test('boundaries', async () => {
    await expect(expectAccepted(token({ iat: NOW - 65 }), { maxTokenAge: 60 })).resolves.toBeDefined();
    await expectCode(token({ iat: NOW - 66 }), 'ERR_JWT_TOO_OLD', { maxTokenAge: 60 });
  });
  test('missing iat -> ERR_JWT_CLAIM_MISSING', async () => {
    await expectCode(token({ iat: undefined }), 'ERR_JWT_CLAIM_MISSING', { maxTokenAge: 60 });
  });
});

describe('requiredClaims', () => {
  test('each listed claim must be present (any value)', async () => {
    await expect(expectAccepted(token({ jti: 'x', tenant: null }), { requiredClaims: ['jti', 'tenant'] })).resolves.toBeDefined();
    const error = await expectCode(token({ jti: undefined }), 'ERR_JWT_CLAIM_MISSING', { requiredClaims: ['jti'] });
    expect(error.message).toBe("missing required 'jti' claim");
  });
});

describe('scopes: from scopeClaim, a space-separated string or an array', () => {
  test.each([
    ['scope string', 'scope', { scope: 'read:a  write:b ' }, ['read:a', 'write:b']],
    ['empty scope (seed-shaped tokens)', 'scope', { scope: '' }, []],
    ['missing scope', 'scope', { scope: undefined }, []],
    ['scp array', 'scp', { scp: ['read:a', 'write:b'] }, ['read:a', 'write:b']],
    ['Auth0 permissions array', 'permissions', { permissions: ['read:orders'] }, ['read:orders']],
    ['empty permissions', 'permissions', { permissions: [] }, []],
  ] as const)('%s', async (_name, scopeClaim, patch, expected) => {
    const result = await expectAccepted(token(patch as Record<string, unknown>), { scopeClaim });
    expect(result.scopes).toEqual(expected);
  });
  test.each([[42], [{ read: true }], [['read', 1]]])('a scope claim of %j is an invalid token', async (scope) => {
    await expectCode(token({ scope }), 'ERR_JWT_CLAIM_INVALID');
  });
});

describe('seed-shaped tokens (sub <client_id>@clients, empty scope) verify', () => {
  test('Auth0 client-credentials shape', async () => {
    const t = token({ sub: 'AbC123@clients', azp: 'AbC123', gty: 'client-credentials', scope: '', jti: 'j1' }, { typ: 'JWT' });
    const result = await expectAccepted(t);
    expect(result.payload.sub).toBe('AbC123@clients');
    expect(result.scopes).toEqual([]);
  });
});

describe('error descriptions never echo the token', () => {
  test('no segment of the token appears in any message or header', async () => {
    const attempts = [
      token({ exp: NOW - 100 }), token({ aud: 'x' }), token({ iss: 'x' }), token({}, { typ: 'x' }),
      token({}, {}, otherRsa.privateKey), `${token()}.x`, token({}, { crit: ['x'] }),
    ];
    for (const t of attempts) {
      const error = await rejection(verifier().v, t);
      for (const segment of t.split('.').filter((s) => s.length > 8)) {
        expect(error.message).not.toContain(segment);
        expect(error.headers['WWW-Authenticate']).not.toContain(segment);
        expect(JSON.stringify(error.toJSON())).not.toContain(segment);
      }
    }
  });
});

describe('onEvent: rejections are reported with their code, never the token', () => {
  test('verification.rejected', async () => {
    const events: unknown[] = [];
    const { v } = verifier({ onEvent: (event) => events.push(event) });
    const t = token({ exp: NOW - 100 });
    await rejection(v, t);
    expect(events).toEqual([{ type: 'verification.rejected', code: 'ERR_JWT_EXPIRED', reason: "the token has expired ('exp' claim)" }]);
    expect(JSON.stringify(events)).not.toContain(t.split('.')[1]);
  });
  test('a throwing listener does not change the outcome', async () => {
    const { v } = verifier({ onEvent: () => { throw new Error('listener bug'); } });
    expect((await rejection(v, token({ exp: NOW - 100 }))).code).toBe('ERR_JWT_EXPIRED');
    await expect(v.verify(token())).toMatchObject({ scopes: ['read:a', 'write:b'] });
  });
});

describe('HS256/384/512 with a shared secret', () => {
  test('verifies with the secret; the allowlist defaults to the HS algorithms', async () => {
    const secret = 'x'.repeat(64);
    const v = createVerifier({ issuer: ISS, audience: AUD, secret, now: () => clock });
    expect(v.options.algorithms).toEqual(['HS256', 'HS384', 'HS512']);
    const { createSecretKey } = await import('node:crypto');
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      const t = signRaw(alg, createSecretKey(Buffer.from(secret)), { alg, typ: 'JWT' }, claims());
      await expect(v.verify(t)).toMatchObject({ header: { alg } });
    }
    const wrong = signRaw('HS256', secretKey(64), { alg: 'HS256' }, claims());
    expect((await rejection(v, wrong)).code).toBe('ERR_JWT_SIGNATURE_INVALID');
    expect((await rejection(v, token())).code).toBe('ERR_JWT_ALG_NOT_ALLOWED');
  });
});

describe('static publicKey (PEM, JWK, JWK Set, KeyObject)', () => {
  test.each(['pem', 'jwk', 'jwks', 'keyObject'] as const)('%s', async (form) => {
    const publicKey = form === 'pem'
      ? rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string
      : form === 'jwk' ? rsa.publicKey.export({ format: 'jwk' })
        : form === 'jwks' ? { keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k1' }] } : rsa.publicKey;
    const v = createVerifier({ issuer: ISS, audience: AUD, publicKey, now: () => clock });
    expect(v.options.algorithms).toContain('RS256');
    expect(v.options.algorithms).not.toContain('HS256');
    const t = token();
    expect(v.verify(t)).toMatchObject({ token: t });
    expect((await rejection(v, token({}, {}, otherRsa.privateKey))).code).toBe('ERR_JWT_SIGNATURE_INVALID');
  });
});

describe('key source errors', () => {
  test('InvalidTokenError and KeySourceUnavailableError from the key source reach the caller unchanged', async () => {
    const { KeySourceUnavailableError } = await import('express-m2m');
    const unavailable = new KeySourceUnavailableError(undefined, 7);
    const keySource = new FixedKeySource(new Map(), ['RS256']);
    keySource.getKey = () => { throw unavailable; };
    const v = createVerifier({ issuer: ISS, audience: AUD, keySource, now: () => clock });
    const result = await settle(() => v.verify(token()));
    expect(result.ok).toBe(false);
    expect((result as { error: unknown }).error).toBe(unavailable);
    const unknownKid = await settle(() => verifier({}, new Map()).v.verify(token()));
    expect((unknownKid as { error: InvalidTokenError }).error.code).toBe('ERR_JWKS_NO_MATCHING_KEY');
  });

  test('anything else a custom key source throws (a bug) passes through for the adapter to report', async () => {
    const bug = new RangeError('bug in a custom key source');
    const keySource = new FixedKeySource(new Map(), ['RS256']);
    keySource.getKey = () => Promise.reject(bug);
    const v = createVerifier({ issuer: ISS, audience: AUD, keySource, now: () => clock });
    await expect(v.verify(token())).rejects.toBe(bug);
  });
});

describe('never a crash for anything a client sends', () => {
  test('a header nested 20000 levels deep (with a raised maxTokenLength) is an invalid token, not a stack overflow', async () => {
    const [, p, s] = token().split('.');
    const header = `{"alg":"RS256","x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    const t = `${b64u(header)}.${p}.${s}`;
    const error = await rejection(verifier({ maxTokenLength: 100_000 }).v, t);
    expect(error.code).toBe('ERR_JWT_SIGNATURE_INVALID');
  });
});
