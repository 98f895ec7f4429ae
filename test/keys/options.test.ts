/**
 * Bad or contradictory key-source options fail at construction with a message naming the option.
 */
import { JWKS_DEFAULTS } from 'express-m2m';
import { createKeySource, type KeySourceOptions } from 'express-m2m/extend';

const JWKS_URI = 'https://issuer.example.com/.well-known/jwks.json';
const SECRET = 's'.repeat(32);

describe('exactly one of jwksUri, publicKey or secret', () => {
  test('none given', () => {
    expect(() => createKeySource({})).toThrow('one of "jwksUri", "publicKey" or "secret" is required');
  });

  test('two or three given name them', () => {
    expect(() => createKeySource({ jwksUri: JWKS_URI, secret: SECRET })).toThrow(
      '"jwksUri", "publicKey" and "secret" are mutually exclusive, got "jwksUri" and "secret"',
    );
    expect(() => createKeySource({ jwksUri: JWKS_URI, publicKey: '-----BEGIN PUBLIC KEY-----', secret: SECRET })).toThrow(
      'got "jwksUri" and "publicKey" and "secret"',
    );
  });

  test('not an object', () => {
    expect(() => createKeySource(undefined as unknown as KeySourceOptions)).toThrow('key source options must be an object');
  });

  test('"jwks" tuning without "jwksUri"', () => {
    expect(() => createKeySource({ secret: SECRET, jwks: { cooldownDuration: 1 } })).toThrow('"jwks" options apply only with "jwksUri"');
  });
});

describe('option types', () => {
  test.each([
    ['relative jwksUri', { jwksUri: '/jwks.json' }, '"jwksUri" must be an absolute http(s) URL, got "/jwks.json"'],
    ['ftp jwksUri', { jwksUri: 'ftp://x/jwks' }, '"jwksUri" must be an absolute http(s) URL'],
    ['numeric jwksUri', { jwksUri: 42 }, '"jwksUri" must be an http(s) URL string or a function returning one'],
    ['numeric secret', { secret: 42 }, '"secret" must be a string or a Uint8Array'],
    ['short secret', { secret: 'short' }, '"secret" must be at least 32 bytes'],
    ['numeric publicKey', { publicKey: 42 }, '"publicKey" must be a PEM string, a JWK, a JWK Set or a KeyObject'],
    ['non-PEM publicKey', { publicKey: 'hello' }, '"publicKey" must be a PEM public key or certificate'],
    ['broken PEM', { publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' }, '"publicKey" is not a valid PEM public key or certificate'],
    ['broken JSON', { publicKey: '{"kty":' }, '"publicKey" looks like JSON but does not parse as a JWK or JWK Set'],
    ['empty JWK Set', { publicKey: { keys: [] } }, '"publicKey.keys" must be a non-empty array of JWKs'],
    ['bad key in a JWK Set', { publicKey: { keys: [{ kty: 'oct', k: 'AAAA' }] } }, '"publicKey.keys[0]" cannot be used to verify tokens: a symmetric key'],
    ['onEvent not a function', { jwksUri: JWKS_URI, onEvent: 'log' }, '"onEvent" must be a function'],
    ['now not a function', { jwksUri: JWKS_URI, now: 5 }, '"now" must be a function returning milliseconds'],
    ['jwks not an object', { jwksUri: JWKS_URI, jwks: 5 }, '"jwks" must be an object'],
  ])('%s', (_name, options, message) => {
    expect(() => createKeySource(options as unknown as KeySourceOptions)).toThrow(message);
    expect(() => createKeySource(options as unknown as KeySourceOptions)).toThrow(TypeError);
  });
});

describe('jwks durations', () => {
  test.each(Object.keys(JWKS_DEFAULTS))('"jwks.%s" must be a non-negative finite number', (name) => {
    for (const value of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5']) {
      expect(() => createKeySource({ jwksUri: JWKS_URI, jwks: { [name]: value } })).toThrow(`"jwks.${name}" must be a`);
    }
  });

  test('timeoutDuration and maxUnknownKids must be positive', () => {
    expect(() => createKeySource({ jwksUri: JWKS_URI, jwks: { timeoutDuration: 0 } })).toThrow('"jwks.timeoutDuration" must be a positive finite number of milliseconds');
    expect(() => createKeySource({ jwksUri: JWKS_URI, jwks: { maxUnknownKids: 0 } })).toThrow('"jwks.maxUnknownKids" must be a positive finite number');
  });

  test('minCacheMaxAge must not exceed maxCacheMaxAge', () => {
    expect(() => createKeySource({ jwksUri: JWKS_URI, jwks: { minCacheMaxAge: 10_000, maxCacheMaxAge: 5000 } })).toThrow(
      '"jwks.minCacheMaxAge" must not be larger than "jwks.maxCacheMaxAge"',
    );
  });

  test('the defaults', () => {
    expect(JWKS_DEFAULTS).toEqual({
      timeoutDuration: 5000,
      cooldownDuration: 30_000,
      refetchInterval: 5000,
      cacheMaxAge: 600_000,
      minCacheMaxAge: 60_000,
      maxCacheMaxAge: 86_400_000,
      maxStale: 3_600_000,
      refreshAheadDuration: 60_000,
      maxUnknownKids: 1000,
    });
  });

  test('valid options construct without any request', () => {
    const source = createKeySource({ jwksUri: JWKS_URI, jwks: { cooldownDuration: 0, maxStale: 0 } });
    expect(source.algorithms).toContain('RS256');
    expect(source.generation).toBe(0);
    expect(source.freshUntil).toBe(Number.NEGATIVE_INFINITY);
  });
});
