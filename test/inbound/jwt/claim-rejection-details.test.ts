/**
 * What a claim rejection tells whom (check-claims.ts): the client gets a stable code and a fixed
 * description (the `error_description` of the challenge, never a claim value), the operator gets
 * the detail (`error.detail`: the client, the claim, what was expected and what came). Each row is
 * one check; the exact texts are pinned so a check that fires for the wrong reason is caught.
 */
import type { KeyObject } from 'node:crypto';
import { createVerifier, InvalidTokenError, type VerifierOptions } from 'express-m2m';
import { FixedKeySource, rsaPair, settle, signRaw, type KeyPair } from './support.js';

const NOW = 1_800_000_000;
const ISS = 'https://issuer.example/';
const AUD = 'https://api.example';
const CLIENT = 'svc@clients';

let rsa: KeyPair;
beforeAll(() => {
  rsa = rsaPair();
});

function token(patch: Record<string, unknown>, key: KeyObject = rsa.privateKey): string {
  const claims: Record<string, unknown> = { iss: ISS, aud: AUD, sub: CLIENT, iat: NOW - 10, exp: NOW + 600, ...patch };
  for (const [name, value] of Object.entries(patch)) if (value === undefined) delete claims[name];
  return signRaw('RS256', key, { alg: 'RS256', typ: 'at+jwt', kid: 'k1' }, claims);
}

function verifier(options: Partial<VerifierOptions> = {}) {
  const keySource = new FixedKeySource(new Map([['*', rsa.publicKey]]), ['RS256']);
  return createVerifier({ issuer: ISS, audience: AUD, keySource, now: () => NOW * 1000, verifiedTokenCache: false, ...options });
}

async function rejection(t: string, options: Partial<VerifierOptions> = {}): Promise<InvalidTokenError> {
  const result = await settle(() => verifier(options).verify(t));
  if (result.ok) throw new Error('expected the token to be rejected');
  expect(result.error).toBeInstanceOf(InvalidTokenError);
  return result.error as InvalidTokenError;
}

describe('every claim rejection: its code, its description, and the detail for the operator', () => {
  test.each<[string, Record<string, unknown>, Partial<VerifierOptions>, string, string, Record<string, string>]>([
    ['exp not a number', { exp: 'soon' }, {},
      'ERR_JWT_CLAIM_INVALID', "'exp' claim must be a number", { client: CLIENT, claim: 'exp', expected: 'a number', received: 'soon' }],
    ['nbf not a number', { nbf: null }, {},
      'ERR_JWT_CLAIM_INVALID', "'nbf' claim must be a number", { client: CLIENT, claim: 'nbf', expected: 'a number', received: 'null' }],
    ['iat not a number', { iat: [NOW] }, {},
      'ERR_JWT_CLAIM_INVALID', "'iat' claim must be a number", { client: CLIENT, claim: 'iat', expected: 'a number', received: `[${NOW}]` }],
    ['jti not a string', { jti: 7 }, {},
      'ERR_JWT_CLAIM_INVALID', "'jti' claim must be a string", { client: CLIENT, claim: 'jti', expected: 'a string', received: '7' }],
    ['aud neither a string nor strings', { aud: [AUD, 1] }, {},
      'ERR_JWT_CLAIM_INVALID', "'aud' claim must be a string or an array of strings", { client: CLIENT, claim: 'aud', expected: 'strings', received: `["${AUD}",1]` }],
    ['exp missing', { exp: undefined }, {},
      'ERR_JWT_CLAIM_MISSING', "missing required 'exp' claim", { client: CLIENT, claim: 'exp' }],
    ['iat missing when maxTokenAge asks for it', { iat: undefined }, { maxTokenAge: 60 },
      'ERR_JWT_CLAIM_MISSING', "missing required 'iat' claim", { client: CLIENT, claim: 'iat' }],
    ['a required claim missing', {}, { requiredClaims: ['tenant'] },
      'ERR_JWT_CLAIM_MISSING', "missing required 'tenant' claim", { client: CLIENT, claim: 'tenant' }],
    ['iss missing', { iss: undefined }, {},
      'ERR_JWT_CLAIM_MISSING', "missing required 'iss' claim", { client: CLIENT, claim: 'iss' }],
    ['iss another issuer', { iss: 'https://issuer.example/evil' }, {},
      'ERR_JWT_ISSUER', "unexpected 'iss' claim value", { client: CLIENT, claim: 'iss', expected: ISS, received: 'https://issuer.example/evil' }],
    ['aud missing', { aud: undefined }, {},
      'ERR_JWT_CLAIM_MISSING', "missing required 'aud' claim", { client: CLIENT, claim: 'aud' }],
    ['aud another audience, several expected', { aud: ['https://other.example'] }, { audience: ['https://a.example', 'https://b.example'] },
      'ERR_JWT_AUDIENCE', "unexpected 'aud' claim value", { client: CLIENT, claim: 'aud', expected: 'https://a.example https://b.example', received: '["https://other.example"]' }],
    ['expired', { exp: NOW - 100 }, {},
      'ERR_JWT_EXPIRED', "the token has expired ('exp' claim)", { client: CLIENT, claim: 'exp', expected: `after ${NOW}`, received: String(NOW - 100) }],
    ['not valid yet', { nbf: NOW + 100 }, {},
      'ERR_JWT_NOT_YET_VALID', "the token is not valid yet ('nbf' claim)", { client: CLIENT, claim: 'nbf', expected: `before ${NOW}`, received: String(NOW + 100) }],
    ['issued in the future', { iat: NOW + 100 }, {},
      'ERR_JWT_IAT_FUTURE', "the token is issued in the future ('iat' claim)", { client: CLIENT, claim: 'iat', expected: `before ${NOW}`, received: String(NOW + 100) }],
    ['too old', { iat: NOW - 100 }, { maxTokenAge: 60 },
      'ERR_JWT_TOO_OLD', "the token is too old ('iat' claim and maxTokenAge)", { client: CLIENT, claim: 'iat', expected: `after ${NOW - 60 - 5}`, received: String(NOW - 100) }],
  ])('%s', async (_name, patch, options, code, description, detail) => {
    const error = await rejection(token(patch), options);
    expect(error.code).toBe(code);
    expect(error.message).toBe(description);
    expect(error.detail).toEqual(detail);
  });

  test('the client in the detail is client_id first, then azp, then sub (a string only)', async () => {
    expect((await rejection(token({ exp: NOW - 100, client_id: 'cid', azp: 'azp' }))).detail).toMatchObject({ client: 'cid' });
    expect((await rejection(token({ exp: NOW - 100, azp: 'azp' }))).detail).toMatchObject({ client: 'azp' });
    expect((await rejection(token({ exp: NOW - 100, sub: undefined }))).detail).toEqual({ claim: 'exp', expected: `after ${NOW}`, received: String(NOW - 100) });
  });
});

describe('the checks run in a fixed order: types, presence, iss, aud, then time', () => {
  test('a token wrong in every way is refused for the type of a claim first', async () => {
    expect((await rejection(token({ jti: 1, exp: undefined, iss: 'x', aud: 'y' }))).code).toBe('ERR_JWT_CLAIM_INVALID');
  });
  test('then for a missing claim, before iss and aud', async () => {
    expect((await rejection(token({ exp: undefined, iss: 'x', aud: 'y' }))).code).toBe('ERR_JWT_CLAIM_MISSING');
  });
  test('then iss before aud, and aud before the time checks', async () => {
    expect((await rejection(token({ iss: 'x', aud: 'y', exp: NOW - 100 }))).code).toBe('ERR_JWT_ISSUER');
    expect((await rejection(token({ aud: 'y', exp: NOW - 100 }))).code).toBe('ERR_JWT_AUDIENCE');
  });
  test('exp before nbf, nbf before iat, iat in the future before maxTokenAge', async () => {
    expect((await rejection(token({ exp: NOW - 100, nbf: NOW + 100 }))).code).toBe('ERR_JWT_EXPIRED');
    expect((await rejection(token({ nbf: NOW + 100, iat: NOW + 100 }))).code).toBe('ERR_JWT_NOT_YET_VALID');
    expect((await rejection(token({ iat: NOW + 100 }), { maxTokenAge: 60 })).code).toBe('ERR_JWT_IAT_FUTURE');
  });
});
