/**
 * Options of createVerifier: every invalid or contradictory option fails at construction with a
 * message naming the option; defaults are what the TSDoc says.
 */
import { createVerifier, type VerifierOptions } from 'express-m2m';
import { FixedKeySource, rsaPair } from './support.js';

const ISS = 'https://issuer.example/';
const AUD = 'https://api.example';
let publicKeyPem: string;

beforeAll(() => {
  publicKeyPem = rsaPair().publicKey.export({ type: 'spki', format: 'pem' }) as string;
});

const make = (options: Record<string, unknown>) => () => createVerifier(options as unknown as VerifierOptions);
const base = () => ({ issuer: ISS, audience: AUD, publicKey: publicKeyPem });

describe('defaults', () => {
  test('resolved options', () => {
    const verifier = createVerifier(base());
    expect(verifier.options).toEqual({
      issuer: ISS,
      issuerBaseURL: undefined,
      audience: [AUD],
      algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
      clockTolerance: 5,
      maxTokenAge: undefined,
      strictTokenType: false,
      requiredClaims: [],
      scopeClaim: 'scope',
      maxTokenLength: 8192,
      verifiedTokenCache: { maxEntries: 10_000, maxBytes: 32 * 1024 * 1024 },
    });
    expect(Object.isFrozen(verifier.options)).toBe(true);
    verifier.close();
  });

  test('an explicit algorithms list is kept (deduplicated)', () => {
    expect(createVerifier({ ...base(), algorithms: ['PS256', 'RS256', 'PS256'] }).options.algorithms).toEqual(['PS256', 'RS256']);
  });
});

describe('required options: an issuer and an audience', () => {
  test('no issuer and no issuerBaseURL', () => {
    expect(make({ audience: AUD, publicKey: publicKeyPem })).toThrow(/"issuer" or "issuerBaseURL" is required/);
  });
  test('no audience', () => {
    expect(make({ issuer: ISS, publicKey: publicKeyPem })).toThrow(/"audience" is required/);
  });
  test('no key source at all', () => {
    expect(make({ issuer: ISS, audience: AUD })).toThrow(/no source of keys.*"issuerBaseURL", "jwksUri", "publicKey", "secret"/);
  });
});

describe('invalid options name the option', () => {
  test.each([
    ['issuer empty', { issuer: '' }, /"issuer" must be a non-empty string/],
    ['issuerBaseURL not a URL', { issuerBaseURL: 'issuer.example' }, /"issuerBaseURL" must be an absolute http\(s\) URL/],
    ['issuerBaseURL ftp', { issuerBaseURL: 'ftp://issuer.example' }, /"issuerBaseURL"/],
    ['audience empty string', { audience: '' }, /"audience" must be a non-empty string or an array of non-empty strings/],
    ['audience empty array', { audience: [] }, /"audience"/],
    ['audience with a number', { audience: [AUD, 1] }, /"audience"/],
    ['jwksUri not a URL', { publicKey: undefined, jwksUri: '/jwks.json' }, /"jwksUri" must be an absolute http\(s\) URL/],
    ['algorithms with none', { algorithms: ['RS256', 'none'] }, /"algorithms" must not contain "none"/],
    ['algorithms with NONE', { algorithms: ['NONE'] }, /"algorithms" must not contain "none"/],
    ['algorithms empty', { algorithms: [] }, /"algorithms" must be an array of non-empty strings/],
    ['algorithms unknown', { algorithms: ['RS1'] }, /"algorithms" contains unsupported algorithm "RS1"/],
    ['HS without secret', { algorithms: ['HS256'] }, /"algorithms" contains HS256, which needs "secret"/],
    ['alg the key cannot serve', { algorithms: ['ES256'] }, /"algorithms" contains ES256, which the key source cannot verify/],
    ['clockTolerance negative', { clockTolerance: -1 }, /"clockTolerance" must be a finite number of seconds, 0 or more/],
    ['clockTolerance a string', { clockTolerance: '5s' }, /"clockTolerance"/],
    ['clockTolerance NaN', { clockTolerance: Number.NaN }, /"clockTolerance"/],
    ['maxTokenAge negative', { maxTokenAge: -5 }, /"maxTokenAge"/],
    ['strictTokenType a string', { strictTokenType: 'yes' }, /"strictTokenType" must be a boolean/],
    ['requiredClaims a string', { requiredClaims: 'jti' }, /"requiredClaims" must be an array of non-empty strings/],
    ['scopeClaim empty', { scopeClaim: '' }, /"scopeClaim" must be a non-empty string/],
    ['maxTokenLength zero', { maxTokenLength: 0 }, /"maxTokenLength" must be a positive integer/],
    ['maxTokenLength fractional', { maxTokenLength: 10.5 }, /"maxTokenLength"/],
    ['verifiedTokenCache a number', { verifiedTokenCache: 100 }, /"verifiedTokenCache" must be a boolean or an object/],
    ['verifiedTokenCache.maxBytes zero', { verifiedTokenCache: { maxBytes: 0 } }, /"verifiedTokenCache.maxBytes" must be a positive integer/],
    ['verifiedTokenCache.maxEntries zero', { verifiedTokenCache: { maxEntries: 0 } }, /"verifiedTokenCache.maxEntries" must be a positive integer/],
    ['onEvent not a function', { onEvent: 'log' }, /"onEvent" must be a function/],
    ['now not a function', { now: 5 }, /"now" must be a function/],
    ['jwks with a static key', { jwks: { timeoutDuration: 100 } }, /"jwks" options apply only to a remote JWKS/],
    ['keySource not a key source', { publicKey: undefined, keySource: {} }, /"keySource" must implement the KeySource contract/],
  ])('%s', (_name, patch, message) => {
    expect(make({ ...base(), ...patch })).toThrow(message);
    expect(make({ ...base(), ...patch })).toThrow(TypeError);
  });
});

describe('a misspelt or unknown option is refused, not silently ignored', () => {
  test('the nearest known name is suggested', () => {
    expect(make({ ...base(), clockTolerence: 5 })).toThrow('unknown option "clockTolerence" (did you mean "clockTolerance"?)');
    expect(make({ ...base(), jwksURI: 'https://issuer.example/jwks' })).toThrow('unknown option "jwksURI" (did you mean "jwksUri"?)');
  });

  test('a name far from every option gets no suggestion', () => {
    expect(make({ ...base(), colour: 'blue' })).toThrow(/^unknown option "colour"$|: unknown option "colour"$/);
  });

  test('a custom keySource missing part of the contract is refused, naming "keySource"', () => {
    const incomplete = { getKey: () => { throw new Error('unused'); }, generation: 1, warmUp: async () => undefined };
    expect(make({ issuer: ISS, audience: AUD, keySource: incomplete })).toThrow(/"keySource" must implement the KeySource contract/);
  });
});

describe('contradictory key sources', () => {
  test.each([
    ['secret + jwksUri', { secret: 'x'.repeat(32), jwksUri: 'https://issuer.example/jwks.json' }, /"jwksUri" and "secret" cannot be used together/],
    ['secret + publicKey', { secret: 'x'.repeat(32), publicKey: 'pem' }, /"publicKey" and "secret" cannot be used together/],
    ['jwksUri + publicKey', { jwksUri: 'https://issuer.example/jwks.json', publicKey: 'pem' }, /"jwksUri" and "publicKey" cannot be used together/],
    ['publicKey + keySource', { publicKey: 'pem', keySource: new FixedKeySource(new Map()) }, /"publicKey" and "keySource" cannot be used together/],
  ])('%s', (_name, keys, message) => {
    expect(make({ issuer: ISS, audience: AUD, ...keys })).toThrow(message);
  });

  test('an RS algorithm with a secret', () => {
    expect(make({ issuer: ISS, audience: AUD, secret: 'x'.repeat(32), algorithms: ['RS256'] }))
      .toThrow(/"algorithms" contains RS256, which cannot be verified with "secret"/);
  });

  test('HS512 with a secret too short for it (the key source serves HS256 only)', () => {
    expect(make({ issuer: ISS, audience: AUD, secret: 'x'.repeat(32), algorithms: ['HS512'] }))
      .toThrow(/"algorithms" contains HS512, which the key source cannot verify/);
  });

  test('key-source option errors name the option too', () => {
    expect(make({ issuer: ISS, audience: AUD, publicKey: 42 })).toThrow(/"publicKey"/);
  });
});

describe('issuerBaseURL alone is enough: discovery gives the issuer and the JWKS URI (lazily)', () => {
  test('constructs without any network request', () => {
    const verifier = createVerifier({ issuerBaseURL: 'http://127.0.0.1:9/', audience: AUD });
    expect(verifier.options.issuer).toBeUndefined();
    expect(verifier.options.issuerBaseURL).toBe('http://127.0.0.1:9/');
    verifier.close();
  });
});
