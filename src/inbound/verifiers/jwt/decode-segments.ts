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

/** The value of a base64url character (`A`..`Z`, `a`..`z`, `0`..`9`, `-`, `_`). */
function sextet(code: number): number {
  if (code >= 65 && code <= 90) return code - 65;
  if (code >= 97 && code <= 122) return code - 71;
  if (code >= 48 && code <= 57) return code + 4;
  return code === 45 ? 62 : 63;
}

/**
 * Bytes of a base64url segment, or `undefined` when it is not the one canonical spelling: only
 * the base64url alphabet, no padding, no impossible length, and the unused low bits of the last
 * character (2 or 4 of them, for 2 or 1 trailing bytes) zero.
 */
export function decodeBase64url(segment: string): Buffer | undefined {
  if (!CANONICAL_BASE64URL.test(segment)) return undefined;
  const rest = segment.length % 4;
  if (rest === 1) return undefined;
  if (rest !== 0) {
    const unusedBits = rest === 2 ? 0b1111 : 0b11;
    if ((sextet(segment.charCodeAt(segment.length - 1)) & unusedBits) !== 0) return undefined;
  }
  return Buffer.from(segment, 'base64url');
}

/**
 * The JSON object a segment encodes, or `undefined` when it is not canonical base64url, not UTF-8,
 * starts with a byte order mark, is not JSON or not a JSON object.
 */
export function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64url(segment);
  if (bytes === undefined || !isUtf8(bytes)) return undefined;
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}
