/**
 * Internal: decoding of the three segments of a compact JWS. One spelling per value (RFC 7515
 * section 2 and 3.1: base64url without padding, RFC 4648 section 3.5 canonical encoding): a
 * segment with padding, whitespace, characters outside the base64url alphabet or non-zero unused
 * bits in its last character is refused, and so is a JSON segment that starts with a byte order
 * mark. jose accepts some of these; here every token has exactly one spelling, so a cache or a
 * replay list keyed on the token string cannot be walked around by respelling it.
 */
import { isUtf8 } from 'node:buffer';

const CANONICAL_BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * The characters a segment may end with when its last character carries unused bits (RFC 4648
 * section 3.5: they must be zero). A length of 2 mod 4 ends in one byte and 4 unused bits: the
 * values 0, 16, 32, 48. A length of 3 mod 4 ends in two bytes and 2 unused bits: the multiples of 4.
 */
const LAST_OF_ONE_BYTE = 'AQgw';
const LAST_OF_TWO_BYTES = 'AEIMQUYcgkosw048';

/**
 * Bytes of a base64url segment, or `undefined` when it is not the one canonical spelling: only
 * the base64url alphabet, no padding, no impossible length, and the unused low bits of the last
 * character (2 or 4 of them, for 2 or 1 trailing bytes) zero.
 */
export function decodeBase64url(segment: string): Buffer | undefined {
  if (!CANONICAL_BASE64URL.test(segment)) return undefined;
  const rest = segment.length % 4;
  if (rest === 1) return undefined;
  if (rest !== 0 && !(rest === 2 ? LAST_OF_ONE_BYTE : LAST_OF_TWO_BYTES).includes(segment.charAt(segment.length - 1))) return undefined;
  return Buffer.from(segment, 'base64url');
}

/**
 * The JSON object a segment encodes, or `undefined` when it is not canonical base64url, not UTF-8,
 * starts with a byte order mark, is not JSON or not a JSON object.
 */
export function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64url(segment);
  if (bytes === undefined || !isUtf8(bytes)) return undefined;
  // A leading byte order mark needs no check of its own: `toString('utf8')` keeps it as U+FEFF,
  // which is not JSON whitespace (ECMA-262 JSON.parse; RFC 8259 section 8.1 lets parsers ignore
  // it, this one does not), so JSON.parse refuses it (test/inbound/jwt/mutation-decode-segments).
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}
