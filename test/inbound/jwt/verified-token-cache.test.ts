/**
 * The verified-token cache (issue 5): a token seen again is served from the cache (same frozen
 * object, no key lookup, no crypto) only while the uncached checks would pass too; entries are
 * dropped when the key source's generation changes; the cache is bounded; failures are never cached.
 */
import type { KeyObject } from 'node:crypto';
import { createVerifier, InvalidTokenError, type VerifierEvent, type VerifierOptions } from 'express-m2m';
import { FixedKeySource, rsaPair, settle, signRaw, type KeyPair } from './support.js';

const NOW = 1_800_000_000;
const ISS = 'https://issuer.example/';
const AUD = 'https://api.example';
let rsa: KeyPair;
let clock: number;

beforeAll(() => {
  rsa = rsaPair();
});
beforeEach(() => {
  clock = NOW * 1000;
});

function token(patch: Record<string, unknown> = {}, key: KeyObject = rsa.privateKey): string {
  return signRaw('RS256', key, { alg: 'RS256', kid: 'k1' }, { iss: ISS, aud: AUD, iat: NOW, exp: NOW + 600, ...patch });
}

function setup(options: Partial<VerifierOptions> = {}) {
  const keySource = new FixedKeySource(new Map([['k1', rsa.publicKey]]), ['RS256']);
  const events: VerifierEvent[] = [];
  const verifier = createVerifier({
    issuer: ISS, audience: AUD, keySource, now: () => clock, onEvent: (event) => events.push(event), ...options,
  });
  return { verifier, keySource, events };
}

async function codeOf(fn: () => unknown): Promise<string> {
  const result = await settle(fn);
  if (result.ok) return 'accepted';
  expect(result.error).toBeInstanceOf(InvalidTokenError);
  return (result.error as InvalidTokenError).code;
}

describe('cache hit: the same frozen object, without key lookup or crypto', () => {
  test('on by default; the second verification is served from the cache', () => {
    const { verifier, keySource } = setup();
    const t = token();
    const first = verifier.verify(t);
    const second = verifier.verify(t);
    expect(second).toBe(first);
    expect(keySource.calls).toHaveLength(1);
  });

  test('a hit is synchronous even when the key source answers with promises', async () => {
    const { verifier, keySource } = setup();
    keySource.asyncKeys = true;
    const t = token();
    const first = await verifier.verify(t);
    const second = verifier.verify(t);
    expect(second).toBe(first);
  });

  test('verifiedTokenCache: false verifies in full every time', () => {
    const { verifier, keySource } = setup({ verifiedTokenCache: false });
    const t = token();
    const first = verifier.verify(t);
    expect(verifier.verify(t)).not.toBe(first);
    expect(verifier.verify(t)).toEqual(first);
    expect(keySource.calls).toHaveLength(3);
  });
});

describe('cache never serves a token outside the window the uncached checks allow', () => {
  test('exp: served until exp + tolerance, then expired exactly like the uncached path', async () => {
    const { verifier } = setup();
    const t = token({ exp: NOW + 60 });
    verifier.verify(t);
    clock = (NOW + 64) * 1000 + 999;
    expect(await codeOf(() => verifier.verify(t))).toBe('accepted');
    clock = (NOW + 65) * 1000;
    expect(await codeOf(() => verifier.verify(t))).toBe('ERR_JWT_EXPIRED');
    const uncached = setup({ verifiedTokenCache: false }).verifier;
    expect(await codeOf(() => uncached.verify(t))).toBe('ERR_JWT_EXPIRED');
  });

  test('nbf: a clock that moves back before nbf - tolerance gets not-yet-valid, as uncached', async () => {
    const { verifier, keySource } = setup();
    const t = token({ nbf: NOW - 10, iat: NOW - 20 });
    verifier.verify(t);
    clock = (NOW - 16) * 1000;
    expect(await codeOf(() => verifier.verify(t))).toBe('ERR_JWT_NOT_YET_VALID');
    expect(keySource.calls).toHaveLength(2);
  });

  test('nbf without iat: the same, nbf alone bounds the cached entry', async () => {
    const { verifier, keySource } = setup();
    const t = token({ nbf: NOW - 10, iat: undefined });
    expect(await codeOf(() => verifier.verify(t))).toBe('accepted');
    clock = (NOW - 15) * 1000;
    expect(await codeOf(() => verifier.verify(t))).toBe('accepted');
    clock = (NOW - 16) * 1000;
    expect(await codeOf(() => verifier.verify(t))).toBe('ERR_JWT_NOT_YET_VALID');
    expect(keySource.calls).toHaveLength(2);
  });

  test('iat: a clock that moves back before iat - tolerance gets iat-in-the-future', async () => {
    const { verifier } = setup();
    const t = token({ iat: NOW });
    verifier.verify(t);
    clock = (NOW - 6) * 1000;
    expect(await codeOf(() => verifier.verify(t))).toBe('ERR_JWT_IAT_FUTURE');
  });

  test('maxTokenAge: a cached token that grows too old is refused', async () => {
    const { verifier } = setup({ maxTokenAge: 30 });
    const t = token({ iat: NOW });
    verifier.verify(t);
    clock = (NOW + 35) * 1000;
    expect(await codeOf(() => verifier.verify(t))).toBe('accepted');
    clock = (NOW + 36) * 1000;
    expect(await codeOf(() => verifier.verify(t))).toBe('ERR_JWT_TOO_OLD');
  });
});

describe('cache is dropped when the key source generation changes (key rotation)', () => {
  test('entries verified under an older generation are verified again', () => {
    const { verifier, keySource, events } = setup();
    const t = token();
    const first = verifier.verify(t);
    keySource.generation += 1;
    const second = verifier.verify(t);
    expect(second).not.toBe(first);
    expect(keySource.calls).toHaveLength(2);
    expect(events).toContainEqual({ type: 'verification.cache_flushed', reason: 'keys_changed', entries: 1 });
    expect(verifier.verify(t)).toBe(second);
  });

  test('a token whose key was removed by the rotation is refused, not served from the cache', async () => {
    const { verifier, keySource } = setup();
    const t = token();
    verifier.verify(t);
    keySource.keys = new Map([['k2', rsaPair().publicKey]]);
    keySource.generation += 1;
    expect(await codeOf(() => verifier.verify(t))).toBe('ERR_JWKS_NO_MATCHING_KEY');
  });

  test('a verification that straddles a generation change is not cached', async () => {
    const { verifier, keySource } = setup();
    keySource.asyncKeys = true;
    const t = token();
    const pending = verifier.verify(t);
    keySource.generation += 1;
    await pending;
    keySource.asyncKeys = false;
    verifier.verify(t);
    expect(keySource.calls).toHaveLength(2);
  });
});

describe('cache is bounded (maxEntries, least recently used evicted first)', () => {
  test('holds at most maxEntries tokens', () => {
    const { verifier, keySource } = setup({ verifiedTokenCache: { maxEntries: 3 } });
    const tokens = [1, 2, 3, 4, 5].map((n) => token({ jti: String(n) }));
    for (const t of tokens) verifier.verify(t);
    expect(keySource.calls).toHaveLength(5);
    for (const t of tokens.slice(2)) verifier.verify(t);
    expect(keySource.calls).toHaveLength(5);
    verifier.verify(tokens[0] as string);
    expect(keySource.calls).toHaveLength(6);
  });

  test('a token in use survives while newer ones come and go', () => {
    const { verifier, keySource } = setup({ verifiedTokenCache: { maxEntries: 4 } });
    const hot = token({ jti: 'hot' });
    verifier.verify(hot);
    for (let n = 0; n < 20; n += 1) {
      verifier.verify(token({ jti: `cold-${n}` }));
      verifier.verify(hot);
    }
    // one verification of the hot token, twenty of cold ones
    expect(keySource.calls).toHaveLength(21);
  });
});

describe('failures are never cached, and cannot evict good entries', () => {
  test('a flood of bad tokens leaves every good entry in place', async () => {
    const { verifier, keySource } = setup({ verifiedTokenCache: { maxEntries: 3 } });
    const good = [1, 2, 3].map((n) => token({ jti: String(n) }));
    for (const t of good) verifier.verify(t);
    const other = rsaPair();
    for (let n = 0; n < 50; n += 1) {
      expect(await codeOf(() => verifier.verify(token({ jti: `bad-${n}` }, other.privateKey)))).toBe('ERR_JWT_SIGNATURE_INVALID');
      expect(await codeOf(() => verifier.verify(token({ jti: `old-${n}`, exp: NOW - 100 })))).toBe('ERR_JWT_EXPIRED');
    }
    const callsBefore = keySource.calls.length;
    for (const t of good) verifier.verify(t);
    expect(keySource.calls).toHaveLength(callsBefore);
  });

  test('the same bad token is checked in full every time', async () => {
    const { verifier, keySource } = setup();
    const bad = token({ aud: 'https://other.example' });
    for (let n = 0; n < 3; n += 1) expect(await codeOf(() => verifier.verify(bad))).toBe('ERR_JWT_AUDIENCE');
    expect(keySource.calls).toHaveLength(3);
  });
});

describe('cache memory is bounded by bytes too (maxBytes), not only by entries', () => {
  test('large tokens evict older entries once their estimated size passes maxBytes', () => {
    // Each token is ~3.4 KB: an estimate of 2 bytes per character + 256 per entry; room for two.
    const tokens = [1, 2, 3].map((n) => token({ jti: String(n), pad: 'x'.repeat(2200) }));
    const perEntry = 2 * (tokens[0] as string).length + 256;
    const { verifier, keySource } = setup({ verifiedTokenCache: { maxEntries: 100, maxBytes: 2 * perEntry + 100 } });
    for (const t of tokens) verifier.verify(t);
    expect(keySource.calls).toHaveLength(3);
    verifier.verify(tokens[2] as string);
    verifier.verify(tokens[1] as string);
    expect(keySource.calls).toHaveLength(3);
    verifier.verify(tokens[0] as string); // evicted by the third
    expect(keySource.calls).toHaveLength(4);
  });

  test('a token larger than maxBytes is verified but never cached', () => {
    const { verifier, keySource } = setup({ verifiedTokenCache: { maxBytes: 1000 } });
    const t = token({ pad: 'x'.repeat(600) });
    verifier.verify(t);
    verifier.verify(t);
    expect(keySource.calls).toHaveLength(2);
  });

  test('default: 32 MiB', () => {
    const { verifier } = setup();
    expect(verifier.options.verifiedTokenCache).toEqual({ maxEntries: 10_000, maxBytes: 32 * 1024 * 1024 });
  });
});
