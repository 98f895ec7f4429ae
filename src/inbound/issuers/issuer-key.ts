/**
 * Internal: how a token's (unverified) `iss` is matched to a trusted issuer. Only for choosing a
 * configuration: the chosen verifier then checks `iss` exactly. Matching normalises only what is
 * safe (scheme and host case, a default port, one trailing slash), never a prefix.
 */

/** The lookup key of an issuer identifier (a URL normalised as above; any other string as is). */
export function issuerKey(issuer: string): string {
  if (!URL.canParse(issuer)) return issuer;
  const url = new URL(issuer);
  // The WHATWG parser lowercases scheme and host and drops a default port.
  const path = url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
  return `${url.protocol}//${url.host}${path}${url.search}${url.hash}`;
}

/** Why an issuer URL cannot be trusted as configured (userinfo, query or fragment), if it cannot. */
export function issuerUrlProblem(issuer: string): string | undefined {
  if (!URL.canParse(issuer)) return undefined;
  const url = new URL(issuer);
  if (url.username !== '' || url.password !== '') return 'must not contain userinfo (user:password@)';
  if (url.search !== '') return 'must not contain a query';
  if (url.hash !== '') return 'must not contain a fragment';
  return undefined;
}
