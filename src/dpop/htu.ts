/**
 * Internal: the comparison of a proof's `htu` with the request URL (RFC 9449 section 4.3 point
 * 9): both without query and fragment, normalised per RFC 3986 section 6.2.2 and 6.2.3 (RFC 9110
 * section 4.2.3): scheme and host in lower case, the default port dropped, an empty path as `/`,
 * dot segments removed, percent-encoded unreserved characters decoded and the hex digits of the
 * others in upper case. WHATWG `URL` does the first four; the percent-encoding is done here.
 */

const PERCENT_ENCODED = /%([0-9A-Fa-f]{2})/g;
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** `%41` -> `A` for the unreserved characters, `%2f` -> `%2F` for the others. */
function normalisePercentEncoding(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(PERCENT_ENCODED, (_, hex: string) => {
    const character = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(character) ? character : `%${hex.toUpperCase()}`;
  });
}

/** URLs normalised lately (a client calls the same few URLs again and again), at most {@link MAX_REMEMBERED}. */
const remembered = new Map<string, string | undefined>();
const MAX_REMEMBERED = 1000;

/**
 * `scheme://host[:port]/path` of an absolute http(s) URL, normalised, without its query and
 * fragment; `undefined` when it is not an absolute http(s) URL.
 */
export function normaliseHttpUri(value: string): string | undefined {
  // The query and fragment never count: leave them out of the key, so varying queries share one entry.
  const end = value.search(/[?#]/);
  const key = end === -1 ? value : value.slice(0, end);
  if (remembered.has(key)) return remembered.get(key);
  const normalised = normalise(key);
  if (remembered.size >= MAX_REMEMBERED) remembered.clear();
  remembered.set(key, normalised);
  return normalised;
}

function normalise(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  return `${url.protocol}//${url.host}${normalisePercentEncoding(url.pathname)}`;
}

/** Why `htu` is not a valid `htu` claim (RFC 9449 section 4.2: no query, no fragment), or `undefined`. */
export function htuProblem(htu: string): string | undefined {
  if (htu.includes('?') || htu.includes('#')) return "the 'htu' claim must not have a query or a fragment";
  if (normaliseHttpUri(htu) === undefined) return "the 'htu' claim is not an absolute http(s) URL";
  return undefined;
}
