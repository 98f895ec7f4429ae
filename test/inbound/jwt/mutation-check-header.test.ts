/**
 * Mutation tests of check-header.ts (issue 16): the code and the description of each header
 * refusal (the operator reads the description; a check that fired for another reason would say
 * so), the typ rule in both modes, and the memory of checked headers (one object per header
 * segment, at most 64 segments remembered, forgotten on clear()).
 */
import { InvalidTokenError } from 'express-m2m';
import { HeaderChecker } from '../../../src/inbound/verifiers/jwt/check-header.js';
import { ALGORITHMS } from '../../../src/inbound/verifiers/jwt/algorithms.js';

const seg = (header: unknown): string => Buffer.from(typeof header === 'string' ? header : JSON.stringify(header)).toString('base64url');
const allowRs256 = new Map([['RS256', ALGORITHMS.get('RS256')!]]);

function refusal(checker: HeaderChecker, segment: string): InvalidTokenError {
  try {
    checker.check(segment);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenError);
    return error as InvalidTokenError;
  }
  throw new Error('expected the header to be refused');
}

describe('each refusal: its code and its description', () => {
  const lenient = new HeaderChecker(allowRs256, false);
  const strict = new HeaderChecker(allowRs256, true);

  test.each([
    ['not base64url', '!!!', 'ERR_JWT_MALFORMED', 'the token header is not a base64url-encoded JSON object'],
    ['not an object', seg([1]), 'ERR_JWT_MALFORMED', 'the token header is not a base64url-encoded JSON object'],
    ['no alg', seg({ typ: 'at+jwt' }), 'ERR_JWT_MALFORMED', "the token header has no 'alg'"],
    ['an empty alg', seg({ alg: '' }), 'ERR_JWT_MALFORMED', "the token header has no 'alg'"],
    ['a numeric alg', seg({ alg: 256 }), 'ERR_JWT_MALFORMED', "the token header has no 'alg'"],
    ['an alg off the allowlist', seg({ alg: 'ES256' }), 'ERR_JWT_ALG_NOT_ALLOWED', "the token 'alg' is not allowed"],
    ['alg none', seg({ alg: 'none' }), 'ERR_JWT_ALG_NOT_ALLOWED', "the token 'alg' is not allowed"],
    ['crit', seg({ alg: 'RS256', crit: ['exp'] }), 'ERR_JWT_CRIT', "the token has a 'crit' header parameter that is not understood"],
    ['crit null', seg({ alg: 'RS256', crit: null }), 'ERR_JWT_CRIT', "the token has a 'crit' header parameter that is not understood"],
    ['a typ of another kind', seg({ alg: 'RS256', typ: 'dpop+jwt' }), 'ERR_JWT_TYP', "the token 'typ' header must be 'at+jwt' or 'JWT'"],
    ['a numeric typ', seg({ alg: 'RS256', typ: 7 }), 'ERR_JWT_TYP', "the token 'typ' header must be 'at+jwt' or 'JWT'"],
    ['a numeric kid', seg({ alg: 'RS256', kid: 7 }), 'ERR_JWT_MALFORMED', "the token 'kid' header must be a string"],
    ['a null kid', seg({ alg: 'RS256', kid: null }), 'ERR_JWT_MALFORMED', "the token 'kid' header must be a string"],
  ])('default mode, %s', (_name, segment, code, description) => {
    expect(refusal(lenient, segment)).toMatchObject({ code, message: description });
  });

  test.each([
    ['no typ', seg({ alg: 'RS256' })],
    ['typ JWT', seg({ alg: 'RS256', typ: 'JWT' })],
    ['typ application/jwt', seg({ alg: 'RS256', typ: 'application/jwt' })],
    ['a numeric typ', seg({ alg: 'RS256', typ: 7 })],
  ])('strict mode, %s -> ERR_JWT_TYP naming at+jwt only', (_name, segment) => {
    expect(refusal(strict, segment)).toMatchObject({ code: 'ERR_JWT_TYP', message: "the token 'typ' header must be 'at+jwt'" });
  });

  test('the checks run in order: alg before crit, crit before typ, typ before kid', () => {
    expect(refusal(lenient, seg({ alg: 'ES256', crit: ['x'], typ: 'x', kid: 1 })).code).toBe('ERR_JWT_ALG_NOT_ALLOWED');
    expect(refusal(lenient, seg({ alg: 'RS256', crit: ['x'], typ: 'x', kid: 1 })).code).toBe('ERR_JWT_CRIT');
    expect(refusal(lenient, seg({ alg: 'RS256', typ: 'x', kid: 1 })).code).toBe('ERR_JWT_TYP');
  });
});

describe('typ: case-insensitive, "application/" optional, nothing else', () => {
  test.each([
    [false, 'at+jwt'], [false, 'AT+JWT'], [false, 'application/AT+JWT'], [false, 'JWT'], [false, 'Application/Jwt'], [false, undefined],
    [true, 'at+jwt'], [true, 'At+Jwt'], [true, 'APPLICATION/at+jwt'],
  ])('strict %s accepts typ %j', (strictTokenType, typ) => {
    const checked = new HeaderChecker(allowRs256, strictTokenType).check(seg({ alg: 'RS256', typ, kid: 'k' }));
    expect(checked.header.typ).toBe(typ);
    expect(checked.kid).toBe('k');
    expect(checked.spec).toBe(ALGORITHMS.get('RS256'));
  });

  test.each([
    [false, 'application/application/jwt'], [false, 'x/jwt'], [false, 'jwt/application'], [false, 'at+jwt/'],
    [false, ''], [false, 'application/'], [true, 'jwt'], [true, 'x/at+jwt'],
  ])('strict %s refuses typ %j', (strictTokenType, typ) => {
    expect(refusal(new HeaderChecker(allowRs256, strictTokenType), seg({ alg: 'RS256', typ })).code).toBe('ERR_JWT_TYP');
  });

  test('a header without kid has kid undefined; the header is frozen, nested values too', () => {
    const checked = new HeaderChecker(allowRs256, false).check(seg({ alg: 'RS256', x5c: ['a'], ext: { a: 1 } }));
    expect(checked.kid).toBeUndefined();
    expect(checked.header).toEqual({ alg: 'RS256', x5c: ['a'], ext: { a: 1 } });
    expect(Object.isFrozen(checked)).toBe(true);
    expect(Object.isFrozen(checked.header)).toBe(true);
    expect(Object.isFrozen((checked.header as unknown as { ext: object }).ext)).toBe(true);
  });
});

describe('checked headers are remembered by segment: at most 64, forgotten on clear()', () => {
  const segments = Array.from({ length: 65 }, (_, i) => seg({ alg: 'RS256', kid: `k${i}` }));

  test('the same segment gives the same checked header; another segment another one', () => {
    const checker = new HeaderChecker(allowRs256, false);
    const first = checker.check(segments[0] as string);
    expect(checker.check(segments[0] as string)).toBe(first);
    expect(checker.check(segments[1] as string)).not.toBe(first);
    expect(checker.check(segments[0] as string)).toBe(first);
  });

  test('a refused segment is not remembered: it is refused again', () => {
    const checker = new HeaderChecker(allowRs256, false);
    const bad = seg({ alg: 'RS256', kid: 1 });
    expect(refusal(checker, bad).code).toBe('ERR_JWT_MALFORMED');
    expect(refusal(checker, bad).code).toBe('ERR_JWT_MALFORMED');
  });

  test('64 distinct headers are all remembered; the 65th starts over', () => {
    const checker = new HeaderChecker(allowRs256, false);
    const first = checker.check(segments[0] as string);
    for (const segment of segments.slice(1, 64)) checker.check(segment);
    expect(checker.check(segments[0] as string)).toBe(first);
    const sixtyFourth = checker.check(segments[63] as string);
    checker.check(segments[64] as string);
    const again = checker.check(segments[0] as string);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
    expect(checker.check(segments[63] as string)).not.toBe(sixtyFourth);
  });

  test('clear() forgets every checked header', () => {
    const checker = new HeaderChecker(allowRs256, false);
    const first = checker.check(segments[0] as string);
    checker.clear();
    const again = checker.check(segments[0] as string);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});
