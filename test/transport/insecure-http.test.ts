/**
 * Plain-http issuers, key sets and token endpoints are refused at construction, unless they are
 * loopback addresses (the local issuer) or the user allows them explicitly for a test network:
 * over a network, keys fetched in clear can be swapped, and a client secret or a token read.
 */
import { clientCredentials, createVerifier, outboundAuth, requireAuth } from 'express-m2m';
import { createKeySource } from 'express-m2m/extend';

const AUDIENCE = 'https://api.example';
const HINT = /must be an https URL, got ".*": over plain http, keys can be swapped and secrets and tokens read in transit \(loopback addresses are allowed; on a test network set "allowInsecureHttp: true"\)$/;

describe('a non-loopback http URL is refused, naming the option and how to allow it', () => {
  test.each<[string, () => unknown, string]>([
    ['requireAuth issuerBaseURL', () => requireAuth({ issuerBaseURL: 'http://issuer.example.com/', audience: AUDIENCE }), 'requireAuth: "issuerBaseURL"'],
    ['createVerifier jwksUri', () => createVerifier({ issuer: 'https://issuer.example.com/', jwksUri: 'http://issuer.example.com/jwks', audience: AUDIENCE }), 'createVerifier: "jwksUri"'],
    ['createKeySource jwksUri', () => createKeySource({ jwksUri: 'http://10.0.0.5/jwks' }), 'createKeySource: "jwksUri"'],
    ['clientCredentials tokenEndpoint', () => clientCredentials({ tokenEndpoint: 'http://auth.example.com/oauth/token', clientId: 'svc', clientSecret: 'secret' }), 'clientCredentials: "tokenEndpoint"'],
    ['clientCredentials issuerBaseURL', () => clientCredentials({ issuerBaseURL: 'http://auth.example.com/', clientId: 'svc', clientSecret: 'secret' }), 'clientCredentials: "issuerBaseURL"'],
    ['outboundAuth baseUrl (the token would cross the network in clear)', () => outboundAuth({
      defaults: { tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'svc', clientSecret: 'secret' },
      services: { billing: { baseUrl: 'http://billing.internal' } },
    }), 'outboundAuth: "services.billing.baseUrl"'],
  ])('%s', (_name, construct, prefix) => {
    expect(construct).toThrow(TypeError);
    let message = '';
    try {
      construct();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.startsWith(prefix)).toBe(true);
    expect(message).toMatch(HINT);
  });

  test('from the environment, the message names the variable', () => {
    const saved = process.env.ISSUER_BASE_URL;
    process.env.ISSUER_BASE_URL = 'http://issuer.example.com/';
    try {
      expect(() => requireAuth({ audience: AUDIENCE })).toThrow('requireAuth: "issuerBaseURL" (from the environment variable ISSUER_BASE_URL) must be an https URL');
    } finally {
      if (saved === undefined) delete process.env.ISSUER_BASE_URL;
      else process.env.ISSUER_BASE_URL = saved;
    }
  });
});

describe('loopback http is allowed (the local issuer, a sidecar); https always', () => {
  test.each(['http://127.0.0.1:4000/', 'http://127.1.2.3/', 'http://localhost:4000/', 'http://api.localhost/', 'http://[::1]:4000/', 'https://issuer.example.com/'])('%s', (url) => {
    const verifier = createVerifier({ issuerBaseURL: url, audience: AUDIENCE });
    verifier.close();
    expect(() => clientCredentials({ issuerBaseURL: url, clientId: 'svc', clientSecret: 'secret' })).not.toThrow();
  });

  test('a host that only looks like loopback is not', () => {
    expect(() => createVerifier({ issuerBaseURL: 'http://127.0.0.1.example.com/', audience: AUDIENCE })).toThrow(HINT);
    expect(() => createVerifier({ issuerBaseURL: 'http://localhost.example.com/', audience: AUDIENCE })).toThrow(HINT);
  });
});

describe('allowInsecureHttp: true allows it, for a test network', () => {
  test('inbound and outbound', () => {
    createVerifier({ issuerBaseURL: 'http://issuer.test/', audience: AUDIENCE, allowInsecureHttp: true }).close();
    expect(() => createKeySource({ jwksUri: 'http://issuer.test/jwks', allowInsecureHttp: true })).not.toThrow();
    expect(() => clientCredentials({ tokenEndpoint: 'http://auth.test/token', clientId: 'svc', clientSecret: 'secret', allowInsecureHttp: true })).not.toThrow();
    expect(() => outboundAuth({
      defaults: { tokenEndpoint: 'http://auth.test/token', clientId: 'svc', clientSecret: 'secret', allowInsecureHttp: true },
      services: { billing: { baseUrl: 'http://billing.test' } },
    })).not.toThrow();
  });

  test('must be a boolean', () => {
    expect(() => createVerifier({ issuerBaseURL: 'https://issuer.example/', audience: AUDIENCE, allowInsecureHttp: 'yes' as unknown as boolean }))
      .toThrow('createVerifier: "allowInsecureHttp" must be a boolean');
  });
});
