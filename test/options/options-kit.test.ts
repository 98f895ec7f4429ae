/**
 * One options kit for every public function: unknown names are refused at every nesting level
 * with the nearest known name suggested; each message names the caller and the option's full path;
 * a value that came from an environment variable names the variable; a missing required option
 * says how to give it.
 */
import {
  authErrorHandler, clientCredentials, createAuthenticator, createVerifier, outboundAuth, requireAuth, requireScopes,
  type AuthErrorRequestHandler, type ClientCredentialsOptions, type OutboundAuthOptions, type RequireAuthOptions, type VerifierOptions,
} from 'express-m2m';
import { createKeySource, MetadataDiscovery, type DiscoveryOptions, type KeySourceOptions } from 'express-m2m/extend';
import { MemoryTokenCache } from 'express-m2m';
import { redisTokenCache } from 'express-m2m/redis';
import { createLocalIssuer } from 'express-m2m/testing';
import { checkLocalIssuerOptions } from '../../src/testing/local-issuer-options.js';

const ISSUER = 'https://issuer.example/';
const AUDIENCE = 'https://api.example';
const verifier = { issuerBaseURL: ISSUER, audience: AUDIENCE };
const provider = { tokenEndpoint: 'https://issuer.example/oauth/token', clientId: 'svc', clientSecret: 'secret' };

describe('unknown option names are refused at every nesting level, with a suggestion', () => {
  test.each<[string, () => unknown, string]>([
    ['requireAuth, top level', () => requireAuth({ ...verifier, clockTolerence: 5 } as RequireAuthOptions), 'requireAuth: unknown option "clockTolerence" (did you mean "clockTolerance"?)'],
    ['requireAuth, jwks', () => requireAuth({ ...verifier, jwks: { cacheMaxAgee: 1000 } } as RequireAuthOptions), 'requireAuth: unknown option "jwks.cacheMaxAgee" (did you mean "jwks.cacheMaxAge"?)'],
    ['createVerifier, verifiedTokenCache', () => createVerifier({ ...verifier, verifiedTokenCache: { maxEntry: 10 } } as unknown as VerifierOptions), 'createVerifier: unknown option "verifiedTokenCache.maxEntry" (did you mean "verifiedTokenCache.maxEntries"?)'],
    ['createAuthenticator', () => createAuthenticator({ ...verifier, allowQueryTokens: true } as unknown as VerifierOptions), 'createAuthenticator: unknown option "allowQueryTokens" (did you mean "allowQueryToken"?)'],
    ['createKeySource, jwks', () => createKeySource({ jwksUri: 'https://issuer.example/jwks', jwks: { maxStail: 0 } } as unknown as KeySourceOptions), 'createKeySource: unknown option "jwks.maxStail" (did you mean "jwks.maxStale"?)'],
    ['requireScopes options', () => requireScopes('a', { mach: 'any' } as never), 'requireScopes: unknown option "mach" (did you mean "match"?)'],
    ['authErrorHandler options', () => authErrorHandler({ json: true } as never), 'authErrorHandler: unknown option "json"'],
    ['clientCredentials', () => clientCredentials({ ...provider, scopes: 'a' } as unknown as ClientCredentialsOptions), 'clientCredentials: unknown option "scopes" (did you mean "scope"?)'],
    ['outboundAuth, a service', () => outboundAuth({ services: { billing: { baseURL: 'https://billing.example' } } } as unknown as OutboundAuthOptions), 'outboundAuth: unknown option "services.billing.baseURL" (did you mean "services.billing.baseUrl"?)'],
    ['outboundAuth, the defaults', () => outboundAuth({ defaults: { clientID: 'x' }, services: { billing: { baseUrl: 'https://billing.example' } } } as unknown as OutboundAuthOptions), 'outboundAuth: unknown option "defaults.clientID" (did you mean "defaults.clientId"?)'],
    ['MetadataDiscovery', () => new MetadataDiscovery(ISSUER, { timeout: 5 } as unknown as DiscoveryOptions), 'MetadataDiscovery: unknown option "timeout"'],
    ['MemoryTokenCache', () => new MemoryTokenCache({ maxEntires: 5 } as never), 'MemoryTokenCache: unknown option "maxEntires" (did you mean "maxEntries"?)'],
    ['redisTokenCache', () => redisTokenCache({ url: 'redis://127.0.0.1:6379', operationTimout: 5 } as never), 'redisTokenCache: unknown option "operationTimout" (did you mean "operationTimeout"?)'],
    ['createLocalIssuer (synchronously, before any port is opened)', () => checkLocalIssuerOptions({ prot: 4000 } as never), 'createLocalIssuer: unknown option "prot" (did you mean "port"?)'],
  ])('%s', (_name, construct, message) => {
    expect(construct).toThrow(TypeError);
    expect(construct).toThrow(message);
  });

  test('an option of requireAuth given to createVerifier says whose it is', () => {
    expect(() => createVerifier({ ...verifier, allowQueryToken: true } as unknown as VerifierOptions))
      .toThrow('createVerifier: unknown option "allowQueryToken" (an option of requireAuth, not of createVerifier)');
  });

  test('the name in a message is bounded (a hostile key cannot flood a log)', () => {
    const long = 'x'.repeat(10_000);
    let message = '';
    try {
      createVerifier({ ...verifier, [long]: 1 } as unknown as VerifierOptions);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.length).toBeLessThan(120);
  });
});

describe('values from the environment: the message names the variable; a missing option says how to give it', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ['ISSUER_BASE_URL', 'AUDIENCE', 'ISSUER', 'JWKS_URI']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  test('a bad ISSUER_BASE_URL', () => {
    process.env.ISSUER_BASE_URL = 'issuer.example';
    process.env.AUDIENCE = AUDIENCE;
    expect(() => requireAuth()).toThrow('requireAuth: "issuerBaseURL" (from the environment variable ISSUER_BASE_URL) must be an absolute http(s) URL, got "issuer.example"');
  });

  test('a missing audience: set AUDIENCE or pass "audience"', () => {
    process.env.ISSUER_BASE_URL = ISSUER;
    delete process.env.AUDIENCE;
    expect(() => requireAuth()).toThrow(/^requireAuth: "audience" is required \(.*\): set AUDIENCE or pass "audience"$/);
  });

  test('a missing issuer: set ISSUER_BASE_URL or pass "issuerBaseURL"', () => {
    delete process.env.ISSUER_BASE_URL;
    delete process.env.ISSUER;
    expect(() => requireAuth({ audience: AUDIENCE })).toThrow(/^requireAuth: "issuer" or "issuerBaseURL" is required: .*: set ISSUER_BASE_URL or pass "issuerBaseURL"$/);
  });

  test('an explicit option is named as the option, not as the variable', () => {
    process.env.ISSUER_BASE_URL = ISSUER;
    expect(() => requireAuth({ audience: AUDIENCE, clockTolerance: -1 })).toThrow('requireAuth: "clockTolerance" must be');
    expect(() => requireAuth({ audience: AUDIENCE, clockTolerance: -1 })).not.toThrow(/environment/);
  });
});

describe('the same kit, the same words', () => {
  test('a duration is "a positive finite number of milliseconds" wherever it is', () => {
    expect(() => clientCredentials({ ...provider, timeoutDuration: 0 })).toThrow('clientCredentials: "timeoutDuration" must be a positive finite number of milliseconds');
    expect(() => requireAuth({ ...verifier, jwks: { timeoutDuration: 0 } })).toThrow('requireAuth: "jwks.timeoutDuration" must be a positive finite number of milliseconds');
    expect(() => new MetadataDiscovery(ISSUER, { timeoutDuration: 0 })).toThrow('MetadataDiscovery: "timeoutDuration" must be a positive finite number of milliseconds');
  });

  test('a choice lists what it may be', () => {
    expect(() => clientCredentials({ ...provider, bodyFormat: 'xml' as 'json' })).toThrow('clientCredentials: "bodyFormat" must be \'form\' or \'json\'');
    expect(() => requireScopes('a', { match: 'most' as 'all' })).toThrow('requireScopes: "match" must be \'all\' or \'any\'');
  });

  test('authErrorHandler without options still works', () => {
    const handler: AuthErrorRequestHandler = authErrorHandler();
    expect(typeof handler).toBe('function');
  });
});

describe('createLocalIssuer refuses a misspelt option too (as a rejected promise)', () => {
  test('prot', async () => {
    await expect(createLocalIssuer({ prot: 4000 } as never)).rejects.toThrow('createLocalIssuer: unknown option "prot" (did you mean "port"?)');
  });
});
