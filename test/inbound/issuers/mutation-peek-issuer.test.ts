/**
 * Mutation tests of peek-issuer.ts (issue 16): the segments are found by their dots wherever they
 * are, so a header of one character (the first dot at index 1) or of none (index 0) still has its
 * payload read; only a token with fewer than two dots is not a JWS.
 */
import { InvalidTokenError } from 'express-m2m';
import { peekIssuer } from '../../../src/inbound/issuers/peek-issuer.js';

const b64u = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const ISS = 'https://issuer.example/';

describe('peekIssuer: the payload is the text between the first and the second dot', () => {
  test.each([
    ['a header of one character (first dot at index 1)', `e.${b64u({ iss: ISS })}.c2ln`],
    ['an empty header (first dot at index 0)', `.${b64u({ iss: ISS })}.c2ln`],
    ['a header of two characters', `ey.${b64u({ iss: ISS })}.`],
    ['more than three segments (the payload is still the second)', `e.${b64u({ iss: ISS })}.c2ln.x`],
  ])('%s', (_name, token) => {
    expect(peekIssuer(token)).toBe(ISS);
  });

  test.each([
    ['one dot right after a one-character header', `e.${b64u({ iss: ISS })}`],
    ['a single dot', '.'],
    ['one character and a dot', 'e.'],
  ])('%s is not a JWS', (_name, token) => {
    let error: unknown;
    try {
      peekIssuer(token);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ code: 'ERR_JWT_MALFORMED', message: 'the token is not a JWS in compact serialization' });
  });
});
