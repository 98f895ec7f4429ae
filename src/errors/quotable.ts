/**
 * Internal (not exported from the package): the one header-safe sanitiser for text that goes into a
 * quoted `WWW-Authenticate` attribute.
 */

/** Characters RFC 6750 section 3 allows in `error_description` and `scope`: %x20-21 / %x23-5B / %x5D-7E. */
const NOT_QUOTABLE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g;

/**
 * `value` with every character RFC 6750 section 3 does not allow inside a quoted attribute
 * (control characters, non-ASCII, `"` and `\`) replaced by `?`, so it can never break out of the
 * quotes or split the header. A value that is already safe comes back unchanged, which makes
 * `quotable(value) === value` the check for "header-safe as is".
 *
 * @example
 * ```ts
 * import { quotable } from '../errors/quotable.js';
 *
 * quotable('the "org" claim\r\n'); // 'the ?org? claim??'
 * ```
 */
export function quotable(value: string): string {
  return value.replace(NOT_QUOTABLE, '?');
}
