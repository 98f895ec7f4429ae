/**
 * Internal: decoding of the three segments of a compact JWS, accepting exactly what jose 6
 * accepts (so that the fast path and jose agree on every token), with a fast path for the
 * canonical base64url that every real token uses.
 */
import { isUtf8 } from 'node:buffer';

const CANONICAL_BASE64URL = /^[A-Za-z0-9_-]*$/;

type FromBase64 = (input: string, options: { alphabet: 'base64url' }) => Uint8Array;

/**
 * Bytes of a base64url segment, or `undefined` when jose would refuse to decode it.
 * Canonical input (only the base64url alphabet, no padding) takes the fast path; anything else
 * goes through the same primitives jose uses (`Uint8Array.fromBase64` where the runtime has it,
 * otherwise `atob` after rejecting `+` and `/`), which allow padding and ASCII whitespace.
 */
export function decodeBase64url(segment: string): Buffer | undefined {
  if (CANONICAL_BASE64URL.test(segment)) {
    if (segment.length % 4 === 1) return undefined;
    return Buffer.from(segment, 'base64url');
  }
  try {
    const fromBase64 = (Uint8Array as unknown as { fromBase64?: FromBase64 }).fromBase64;
    if (typeof fromBase64 === 'function') {
      const bytes = fromBase64(segment, { alphabet: 'base64url' });
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    if (segment.includes('+') || segment.includes('/')) return undefined;
    return Buffer.from(atob(segment.replace(/-/g, '+').replace(/_/g, '/')), 'latin1');
  } catch {
    return undefined;
  }
}

/**
 * The JSON object a segment encodes, or `undefined` when it is not base64url, not UTF-8, not JSON
 * or not a JSON object. Like jose: strict UTF-8 and a leading byte order mark is dropped.
 */
export function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64url(segment);
  if (bytes === undefined || !isUtf8(bytes)) return undefined;
  const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8', start));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}
