/**
 * Mutation tests of decode-segments.ts (issue 16): every base64url character in every position
 * of a segment's last quantum, held to Node's own encoder: a segment is decoded exactly when it is
 * the one spelling Node writes for its bytes, and then to those bytes. The JSON side: only a
 * UTF-8, BOM-free JSON object is a segment's value.
 */
import { decodeBase64url, decodeJsonObject } from '../../../src/inbound/verifiers/jwt/decode-segments.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The one spelling Node's encoder gives the bytes Node's lenient decoder reads from `segment`. */
function canonical(segment: string): boolean {
  return Buffer.from(segment, 'base64url').toString('base64url') === segment;
}

describe('decodeBase64url: exactly the canonical spelling, for every last character', () => {
  // Prefixes of 0..3 characters put the tested character at remainders 1, 2, 3 and 0 (mod 4).
  const prefixes = ['', 'Q', 'QU', 'QUJ'];
  const cases = prefixes.flatMap((prefix) => [...ALPHABET].map((last) => `${prefix}${last}`));

  test('the oracle tells both kinds apart (some characters are canonical, some not, at each length)', () => {
    for (const length of [2, 3, 4]) {
      const ofLength = cases.filter((segment) => segment.length === length);
      expect(ofLength.some(canonical)).toBe(true);
      if (length !== 4) expect(ofLength.some((segment) => !canonical(segment))).toBe(true);
    }
  });

  test.each(cases)('%s', (segment) => {
    const decoded = decodeBase64url(segment);
    if (canonical(segment)) {
      expect(decoded).toEqual(Buffer.from(segment, 'base64url'));
    } else {
      expect(decoded).toBeUndefined();
    }
  });

  test('the characters whose unused bits are zero decode, their neighbours in the alphabet do not', () => {
    // 2 trailing bytes (3 characters): the last one's 2 low bits are unused.
    expect(decodeBase64url('QUE')).toEqual(Buffer.from('AA'));
    expect(decodeBase64url('QUF')).toBeUndefined();
    expect(decodeBase64url('AA0')).toEqual(Buffer.from([0x00, 0x0d]));
    expect(decodeBase64url('AA1')).toBeUndefined();
    expect(decodeBase64url('AAc')).toEqual(Buffer.from([0x00, 0x07]));
    expect(decodeBase64url('AAd')).toBeUndefined();
    // 1 trailing byte (2 characters): the last one's 4 low bits are unused.
    expect(decodeBase64url('QQ')).toEqual(Buffer.from('A'));
    expect(decodeBase64url('QR')).toBeUndefined();
    expect(decodeBase64url('AA')).toEqual(Buffer.from([0]));
    expect(decodeBase64url('A4')).toBeUndefined();
    expect(decodeBase64url('Ag')).toEqual(Buffer.from([0x02]));
    expect(decodeBase64url('Aw')).toEqual(Buffer.from([0x03]));
  });

  test.each([
    ['a length of 1 (mod 4)', 'QUJDR'],
    ['padding', 'QQ=='],
    ['padding after a full quantum', 'QUJD='],
    ['standard base64 "+"', 'QU+D'],
    ['standard base64 "/"', 'QU/D'],
    ['whitespace', 'QU JD'],
    ['a line break', 'QUJD\nQUJD'],
    ['a dot', 'QU.D'],
    ['a non-ASCII letter', 'QUJé'],
  ])('%s is refused', (_name, segment) => {
    expect(decodeBase64url(segment)).toBeUndefined();
  });

  test('the empty segment is zero bytes', () => {
    expect(decodeBase64url('')).toEqual(Buffer.alloc(0));
  });
});

describe('decodeJsonObject: a UTF-8 JSON object without a byte order mark', () => {
  const seg = (bytes: string | Buffer): string => Buffer.from(bytes).toString('base64url');

  test('an object decodes to its value', () => {
    expect(decodeJsonObject(seg('{"alg":"RS256","n":[1,{"x":null}]}'))).toEqual({ alg: 'RS256', n: [1, { x: null }] });
    expect(decodeJsonObject(seg('{}'))).toEqual({});
    expect(decodeJsonObject(seg(' {"a":"\u00e9"} '))).toEqual({ a: '\u00e9' });
  });

  test.each([
    ['an array', seg('[{"a":1}]')],
    ['null', seg('null')],
    ['a number', seg('1')],
    ['a string', seg('"{}"')],
    ['true', seg('true')],
    ['not JSON', seg('{a:1}')],
    ['empty', ''],
    ['a byte order mark before the object', seg(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')]))],
    ['invalid UTF-8 inside a string', seg(Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff]), Buffer.from('"}')]))],
    ['an overlong UTF-8 encoding', seg(Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]))],
    ['a non-canonical spelling of an object', `${seg('{}')}=`],
  ])('%s is refused', (_name, segment) => {
    expect(decodeJsonObject(segment)).toBeUndefined();
  });

  test('a BOM is refused only at the start: inside a string it is a character', () => {
    expect(decodeJsonObject(seg('{"a":"\ufeff"}'))).toEqual({ a: '\ufeff' });
  });
});
