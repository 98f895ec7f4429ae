/** Bad options fail at construction with a message naming the option (README promise). */
import { generateKeyPairSync } from 'node:crypto';
import { clientCredentials } from 'express-m2m';
import type { ClientCredentialsOptions } from 'express-m2m';

const base: ClientCredentialsOptions = { tokenEndpoint: 'https://auth.example.test/oauth/token', clientId: 'svc', clientSecret: 'secret' };
const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
const weakRsaPem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const x25519Pem = generateKeyPairSync('x25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

describe('clientCredentials: construction-time validation names the option', () => {
  it.each<[string, Partial<Record<keyof ClientCredentialsOptions, unknown>>, RegExp]>([
    ['no endpoint', { tokenEndpoint: undefined }, /exactly one of "tokenEndpoint" and "issuerBaseURL"/],
    ['both endpoints', { issuerBaseURL: 'https://auth.example.test' }, /exactly one of "tokenEndpoint" and "issuerBaseURL"/],
    ['a relative endpoint', { tokenEndpoint: '/oauth/token' }, /"tokenEndpoint" must be an absolute http\(s\) URL/],
    ['a non-http issuer', { tokenEndpoint: undefined, issuerBaseURL: 'ftp://x' }, /"issuerBaseURL"/],
    ['an empty clientId', { clientId: '' }, /"clientId"/],
    ['no secret for basic', { clientSecret: undefined }, /"clientSecret" is required for client_secret_basic/],
    ['secret and key', { privateKey: privatePem }, /"clientSecret" or "privateKey", not both/],
    ['an unknown authMethod', { authMethod: 'tls_client_auth' }, /"authMethod"/],
    ['private_key_jwt without a key', { authMethod: 'private_key_jwt' }, /"privateKey" is required/],
    ['a public key as privateKey', { clientSecret: undefined, privateKey: publicPem }, /"privateKey"/],
    ['garbage as privateKey', { clientSecret: undefined, privateKey: 'not a key' }, /"privateKey"/],
    ['an alg that does not fit the key', { clientSecret: undefined, privateKey: privatePem, privateKeyAlg: 'RS256' }, /"privateKeyAlg"/],
    ['a 1024-bit RSA key (the verifiers would refuse its assertions)', { clientSecret: undefined, privateKey: weakRsaPem }, /"privateKey" fits none of the supported algorithms/],
    ['a 1024-bit RSA key with an explicit alg', { clientSecret: undefined, privateKey: weakRsaPem, privateKeyAlg: 'RS256' }, /"privateKeyAlg" "RS256" does not fit the key: the RSA key has 1024 bits/],
    ['a privateKeyKid with a client secret', { privateKeyKid: 'k1' }, /"privateKeyKid" applies only to private_key_jwt/],
    ['a privateKeyAlg with a client secret', { privateKeyAlg: 'ES256' }, /"privateKeyAlg" applies only to private_key_jwt/],
    ['an X25519 key (cannot sign)', { clientSecret: undefined, privateKey: x25519Pem }, /"privateKey" fits none of the supported algorithms/],
    ['a misspelt option', { clientSecrt: 'x' } as unknown as Partial<Record<keyof ClientCredentialsOptions, unknown>>, /unknown option "clientSecrt" \(did you mean "clientSecret"\?\)/],
    ['an empty audience', { audience: '' }, /"audience"/],
    ['a bad scope', { scope: [1] }, /"scope"/],
    ['a relative resource', { resource: 'billing' }, /"resource"/],
    ['extraParams overriding grant_type', { extraParams: { grant_type: 'password' } }, /"extraParams" must not set "grant_type"/],
    ['extraParams with a number', { extraParams: { a: 1 } }, /"extraParams"/],
    ['a bad bodyFormat', { bodyFormat: 'xml' }, /"bodyFormat"/],
    ['a negative expiryMargin', { expiryMargin: -1 }, /"expiryMargin"/],
    ['a reversed refreshWindow', { refreshWindow: [0.9, 0.5] }, /"refreshWindow"/],
    ['a zero timeoutDuration', { timeoutDuration: 0 }, /"timeoutDuration"/],
    ['a fractional maxRetries', { maxRetries: 1.5 }, /"maxRetries"/],
    ['a cache without methods', { cache: {} }, /"cache"/],
    ['a non-function onEvent', { onEvent: 'log' }, /"onEvent"/],
  ])('%s', (_name, override, message) => {
    expect(() => clientCredentials({ ...base, ...override } as ClientCredentialsOptions)).toThrow(message);
  });

  it.each<[string, Partial<Record<keyof ClientCredentialsOptions, unknown>>, RegExp]>([
    ['a negative timeoutDuration', { timeoutDuration: -5 }, /^clientCredentials: "timeoutDuration" must be a positive finite number of milliseconds$/],
    ['an empty audience', { audience: '' }, /^clientCredentials: "audience" must be a non-empty string$/],
    ['a private key as well', { privateKey: privatePem }, /^clientCredentials: give "clientSecret" or "privateKey", not both$/],
  ])('never echoes the secret in a validation message: %s', (_name, override, message) => {
    const secret = 'do-not-print-me-0123456789';
    // The error is captured outside the assertion, so a construction that stops throwing fails here.
    let caught: unknown;
    try {
      clientCredentials({ ...base, clientSecret: secret, ...override } as ClientCredentialsOptions);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TypeError);
    const { message: text, stack } = caught as TypeError;
    expect(text).toMatch(message); // names the option
    expect(text).not.toContain(secret);
    expect(String(stack)).not.toContain(secret);
  });
});
