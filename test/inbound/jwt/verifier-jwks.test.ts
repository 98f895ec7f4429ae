/**
 * The verifier against the real local issuer (HTTP on 127.0.0.1): every asymmetric algorithm from
 * a JWKS, discovery of issuer and jwks_uri, warm-up and the synchronous hot path, outages (503),
 * key rotation, and header-injected key locations never fetched.
 */
import { createVerifier, InvalidTokenError, KeySourceUnavailableError, type VerifierEvent } from 'express-m2m';
import { createLocalIssuer, LOCAL_ISSUER_ALGORITHMS, type LocalIssuer } from 'express-m2m/testing';
import { settle } from './support.js';

const AUD = 'https://api.example';
let issuer: LocalIssuer;
let other: LocalIssuer;

beforeAll(async () => {
  issuer = await createLocalIssuer();
  other = await createLocalIssuer();
  for (const alg of LOCAL_ISSUER_ALGORITHMS) if (alg !== 'RS256') issuer.addKey(alg);
});
afterAll(async () => {
  await issuer.close();
  await other.close();
});
beforeEach(() => {
  issuer.clearFaults();
  issuer.resetCounts();
});

describe('every asymmetric algorithm verifies from a JWKS found by discovery', () => {
  test.each([...LOCAL_ISSUER_ALGORITHMS])('%s', async (alg) => {
    const verifier = createVerifier({ issuerBaseURL: issuer.url, audience: AUD });
    const token = await issuer.sign({ aud: AUD, sub: 'svc@clients', scope: 'read:a' }, { alg });
    const result = await verifier.verify(token);
    expect(result.header.alg).toBe(alg);
    expect(result.header.kid).toBe(issuer.currentKid(alg));
    expect(result.payload.iss).toBe(issuer.issuer);
    expect(result.scopes).toEqual(['read:a']);
    verifier.close();
  });

  test('the default allowlist is the asymmetric algorithms, never HS', () => {
    const verifier = createVerifier({ issuerBaseURL: issuer.url, audience: AUD });
    expect(verifier.options.algorithms).toEqual(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);
    verifier.close();
  });
});

describe('seed-shaped tokens from the local issuer\'s token endpoint shape verify', () => {
  test('sub <client_id>@clients, empty scope -> scopes []', async () => {
    const verifier = createVerifier({ issuerBaseURL: issuer.url, audience: AUD });
    const token = await issuer.accessToken({ clientId: 'billing', audience: AUD });
    const result = await verifier.verify(token);
    expect(result.payload.sub).toBe('billing@clients');
    expect(result.payload.scope).toBe('');
    expect(result.scopes).toEqual([]);
    verifier.close();
  });

  test('a scope list and strictTokenType (the local issuer mints typ at+jwt)', async () => {
    const verifier = createVerifier({ issuerBaseURL: issuer.url, audience: AUD, strictTokenType: true });
    const token = await issuer.accessToken({ clientId: 'billing', audience: AUD, scope: 'read:orders write:orders' });
    expect((await verifier.verify(token)).scopes).toEqual(['read:orders', 'write:orders']);
    verifier.close();
  });
});

describe('discovery: issuerBaseURL gives the expected iss and the jwks_uri', () => {
  test('a token from another issuer (same keys format, other iss) is refused', async () => {
    const verifier = createVerifier({ issuerBaseURL: issuer.url, audience: AUD });
    await verifier.warmUp();
    const token = await issuer.sign({ aud: AUD, iss: other.issuer });
    const result = await settle(() => verifier.verify(token));
    expect(result.ok).toBe(false);
    expect((result as { error: InvalidTokenError }).error.code).toBe('ERR_JWT_ISSUER');
    verifier.close();
  });

  test('issuer and jwksUri given: no discovery request at all', async () => {
    const verifier = createVerifier({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUD });
    await verifier.verify(await issuer.sign({ aud: AUD }));
    expect(issuer.counts.discovery).toBe(0);
    expect(issuer.counts.jwks).toBe(1);
    verifier.close();
  });

  test('warmUp fetches metadata and keys; afterwards verify answers synchronously', async () => {
    const verifier = createVerifier({ issuerBaseURL: issuer.url, audience: AUD });
    await verifier.warmUp();
    expect(issuer.counts.discovery).toBeGreaterThanOrEqual(1);
    expect(issuer.counts.jwks).toBe(1);
    const token = await issuer.sign({ aud: AUD });
    const result = verifier.verify(token);
    expect(result).not.toBeInstanceOf(Promise);
    expect(result).toMatchObject({ token });
    verifier.close();
  });

  test('without warmUp the first verify returns a promise, then the hot path is synchronous', async () => {
    const verifier = createVerifier({ issuerBaseURL: issuer.url, audience: AUD });
    const first = verifier.verify(await issuer.sign({ aud: AUD }));
    expect(first).toBeInstanceOf(Promise);
    await first;
    expect(verifier.verify(await issuer.sign({ aud: AUD }))).not.toBeInstanceOf(Promise);
    verifier.close();
  });

  test('concurrent first requests share one discovery and one JWKS fetch', async () => {
    const verifier = createVerifier({ issuerBaseURL: issuer.url, audience: AUD });
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, n) => issuer.sign({ aud: AUD, jti: `c${n}` })));
    await Promise.all(tokens.map((token) => verifier.verify(token)));
    expect(issuer.counts.jwks).toBe(1);
    expect(issuer.counts.discovery).toBe(1);
    verifier.close();
  });
});

describe('outages: no usable metadata or keys -> 503 KeySourceUnavailableError with Retry-After', () => {
  test('discovery answering 500', async () => {
    issuer.setFault('discovery', { status: 500 });
    const events: VerifierEvent[] = [];
    const verifier = createVerifier({ issuerBaseURL: issuer.url, audience: AUD, onEvent: (event) => events.push(event) });
    const malformed = await settle(() => verifier.verify('not-a-jwt'));
    // A structurally bad token is still the client's fault, outage or not: no request needed.
    expect((malformed as { error: Error }).error).toBeInstanceOf(InvalidTokenError);
    expect(issuer.counts.discovery).toBe(0);
    const token = await issuer.sign({ aud: AUD });
    const outage = await settle(() => verifier.verify(token));
    expect(outage.ok).toBe(false);
    const error = (outage as { error: KeySourceUnavailableError }).error;
    expect(error).toBeInstanceOf(KeySourceUnavailableError);
    expect(error.status).toBe(503);
    expect(error.headers['Retry-After']).toMatch(/^\d+$/);
    expect(events.some((event) => event.type === 'verification.discovery_failed')).toBe(true);
    verifier.close();
  });

  test('warmUp rejects while the issuer is unreachable, and a later warmUp succeeds', async () => {
    let clock = Date.now();
    issuer.setFault('discovery', { status: 503, times: 1 });
    const verifier = createVerifier({ issuerBaseURL: issuer.url, audience: AUD, now: () => clock });
    await expect(verifier.warmUp()).rejects.toBeInstanceOf(KeySourceUnavailableError);
    clock += 6_000; // past discovery's failure cooldown
    await expect(verifier.warmUp()).resolves.toBeUndefined();
    expect(verifier.verify(await issuer.sign({ aud: AUD }))).not.toBeInstanceOf(Promise);
    verifier.close();
  });

  test('metadata without jwks_uri', async () => {
    issuer.setFault('discovery', { body: JSON.stringify({ issuer: issuer.issuer }) });
    const verifier = createVerifier({ issuerBaseURL: issuer.url, audience: AUD });
    const token = await issuer.sign({ aud: AUD });
    const result = await settle(() => verifier.verify(token));
    expect(result.ok).toBe(false);
    expect((result as { error: Error }).error).toBeInstanceOf(KeySourceUnavailableError);
    verifier.close();
  });

  test('JWKS answering HTML', async () => {
    issuer.setFault('jwks', { html: true });
    const verifier = createVerifier({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUD });
    const token = await issuer.sign({ aud: AUD });
    const outage = await settle(() => verifier.verify(token));
    expect((outage as { error: Error }).error).toBeInstanceOf(KeySourceUnavailableError);
    verifier.close();
  });
});

describe('key rotation: tokens verified with a key that is gone are not served from the cache', () => {
  test('after a rotation that drops the old key, the old token is refused', async () => {
    let clock = Date.now();
    const local = await createLocalIssuer({ now: () => clock });
    try {
      const events: VerifierEvent[] = [];
      const verifier = createVerifier({ issuerBaseURL: local.url, audience: AUD, now: () => clock, onEvent: (event) => events.push(event) });
      const oldToken = await local.sign({ aud: AUD });
      await verifier.verify(oldToken);
      expect(verifier.verify(oldToken)).not.toBeInstanceOf(Promise);
      local.rotateKeys({ keepPrevious: false });
      clock += 31_000; // past the key source's unknown-kid cooldown
      const newToken = await local.sign({ aud: AUD });
      await verifier.verify(newToken); // unknown kid -> one refetch -> new key set, new generation
      const result = await settle(() => verifier.verify(oldToken));
      expect(result.ok).toBe(false);
      expect((result as { error: InvalidTokenError }).error).toBeInstanceOf(InvalidTokenError);
      // The flush happens lazily, on the first verification that sees the new generation.
      expect(events).toContainEqual(expect.objectContaining({ type: 'verification.cache_flushed', reason: 'keys_changed', entries: 1 }));
      verifier.close();
    } finally {
      await local.close();
    }
  });
});

describe('jku, x5u, jwk, x5c headers never lead to a fetch', () => {
  test('a token pointing at another issuer\'s JWKS and signed by its key is refused; that JWKS is never asked', async () => {
    const verifier = createVerifier({ issuerBaseURL: issuer.url, audience: AUD });
    await verifier.warmUp();
    other.resetCounts();
    const forged = await other.sign({ aud: AUD, iss: issuer.issuer }, {
      kid: issuer.currentKid(),
      header: { jku: other.jwksUri, x5u: `${other.url}/cert.pem`, jwk: other.publicJwks().keys[0] },
    });
    const result = await settle(() => verifier.verify(forged));
    expect(result.ok).toBe(false);
    expect((result as { error: InvalidTokenError }).error.code).toBe('ERR_JWT_SIGNATURE_INVALID');
    expect(other.counts.jwks).toBe(0);
    verifier.close();
  });
});
