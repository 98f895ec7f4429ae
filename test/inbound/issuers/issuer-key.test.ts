/**
 * Choosing an issuer's configuration before anything is verified (src/inbound/issuers): the
 * unverified `iss` is read from the payload (peekIssuer) and looked up by a normalised key
 * (issuerKey) that folds only what cannot change the issuer (scheme and host case, a default
 * port, one trailing slash), never a prefix. Unit tests of the two internal functions; the
 * end-to-end behaviour is in several-issuers.test.ts.
 */
import { InvalidTokenError } from 'express-m2m';
import { issuerKey, issuerUrlProblem } from '../../../src/inbound/issuers/issuer-key.js';
import { peekIssuer } from '../../../src/inbound/issuers/peek-issuer.js';

const b64u = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const jws = (payload: unknown): string => `${b64u({ alg: 'RS256' })}.${b64u(payload)}.c2ln`;

describe('issuerKey: the same issuer written differently has one key; another issuer never shares it', () => {
  test.each([
    ['scheme and host case, default port and trailing slash', 'HTTPS://Issuer.Example:443/', 'https://issuer.example'],
    ['no path at all', 'https://issuer.example', 'https://issuer.example'],
    ['a path with a trailing slash', 'https://issuer.example/tenant/', 'https://issuer.example/tenant'],
    ['a path without one', 'https://issuer.example/tenant', 'https://issuer.example/tenant'],
    ['only one trailing slash is dropped', 'https://issuer.example/tenant//', 'https://issuer.example/tenant/'],
    ['a port that is not the default stays', 'https://issuer.example:8443/', 'https://issuer.example:8443'],
    ['http keeps its scheme', 'http://127.0.0.1:3000/', 'http://127.0.0.1:3000'],
    ['query and fragment are kept (they make another issuer)', 'https://issuer.example/?tenant=a#x', 'https://issuer.example?tenant=a#x'],
    ['a string that is not a URL is its own key', 'my issuer', 'my issuer'],
    ['the empty string too', '', ''],
  ])('%s: %j -> %j', (_name, issuer, key) => {
    expect(issuerKey(issuer)).toBe(key);
  });

  test('a longer issuer (a path or a host suffix) has another key', () => {
    expect(issuerKey('https://issuer.example/evil')).not.toBe(issuerKey('https://issuer.example/'));
    expect(issuerKey('https://issuer.example.evil.test/')).not.toBe(issuerKey('https://issuer.example/'));
    expect(issuerKey('https://issuer.example/tenant/x')).not.toBe(issuerKey('https://issuer.example/tenant/'));
  });
});

describe('issuerUrlProblem: an issuer URL with userinfo, a query or a fragment is refused at configuration', () => {
  test.each([
    ['a user and a password', 'https://user:pw@issuer.example/', 'must not contain userinfo (user:password@)'],
    ['a user only', 'https://user@issuer.example/', 'must not contain userinfo (user:password@)'],
    ['a password only', 'https://:pw@issuer.example/', 'must not contain userinfo (user:password@)'],
    ['a query', 'https://issuer.example/?tenant=a', 'must not contain a query'],
    ['a fragment', 'https://issuer.example/#a', 'must not contain a fragment'],
  ])('%s -> %s', (_name, issuer, problem) => {
    expect(issuerUrlProblem(issuer)).toBe(problem);
  });

  test.each([
    ['a plain issuer URL', 'https://issuer.example/'],
    ['a path', 'https://issuer.example/tenant/'],
    ['an empty query or fragment (the parser drops them)', 'https://issuer.example/?'],
    ['a string that is not a URL', 'my issuer'],
  ])('%s is fine', (_name, issuer) => {
    expect(issuerUrlProblem(issuer)).toBeUndefined();
  });
});

describe('peekIssuer: the string iss of a compact JWS payload, or a 401', () => {
  function refusal(token: string): InvalidTokenError {
    try {
      peekIssuer(token);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidTokenError);
      return error as InvalidTokenError;
    }
    throw new Error('expected peekIssuer to refuse the token');
  }

  test('reads iss from the second segment (not the header, not the signature)', () => {
    expect(peekIssuer(`${b64u({ alg: 'RS256', iss: 'https://header.example/' })}.${b64u({ iss: 'https://issuer.example/' })}.${b64u({ iss: 'x' })}`))
      .toBe('https://issuer.example/');
  });
  test('an empty signature segment is still three segments', () => {
    expect(peekIssuer(`${jws({ iss: 'https://issuer.example/' }).split('.').slice(0, 2).join('.')}.`)).toBe('https://issuer.example/');
  });
  test.each([
    ['no dot', 'opaque-token'],
    ['one dot', `${b64u({ alg: 'RS256' })}.${b64u({ iss: 'https://issuer.example/' })}`],
  ])('%s: not a JWS -> ERR_JWT_MALFORMED', (_name, token) => {
    expect(refusal(token)).toMatchObject({ code: 'ERR_JWT_MALFORMED', message: 'the token is not a JWS in compact serialization' });
  });
  test.each([
    ['not base64url', `${b64u({ alg: 'RS256' })}.!!!.c2ln`],
    ['not JSON', `${b64u({ alg: 'RS256' })}.${b64u('iss')}.c2ln`],
    ['a JSON array', jws(['https://issuer.example/'])],
    ['empty', `${b64u({ alg: 'RS256' })}..c2ln`],
  ])('a payload %s -> ERR_JWT_MALFORMED', (_name, token) => {
    expect(refusal(token)).toMatchObject({ code: 'ERR_JWT_MALFORMED', message: 'the token payload is not a base64url-encoded JSON object' });
  });
  test('no iss -> ERR_JWT_CLAIM_MISSING', () => {
    expect(refusal(jws({ sub: 'x' }))).toMatchObject({ code: 'ERR_JWT_CLAIM_MISSING', message: "missing required 'iss' claim" });
  });
  test.each([[['https://issuer.example/']], [1], [null]])('iss %j -> ERR_JWT_CLAIM_INVALID', (iss) => {
    expect(refusal(jws({ iss }))).toMatchObject({ code: 'ERR_JWT_CLAIM_INVALID', message: "'iss' claim must be a string" });
  });
  test('the refusal is a 401 invalid_token that never echoes the token', () => {
    const token = jws({ iss: 42 });
    const error = refusal(token);
    expect(error.status).toBe(401);
    expect(error.headers['WWW-Authenticate']).toMatch(/^Bearer error="invalid_token"/);
    for (const segment of token.split('.')) expect(`${error.message} ${error.headers['WWW-Authenticate']}`).not.toContain(segment);
  });
});
