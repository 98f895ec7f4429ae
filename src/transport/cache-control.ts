/**
 * Internal: the freshness lifetime a JWKS or metadata response asks for (RFC 9111 section 4.2.1): `max-age`
 * minus `Age`; `no-cache` and `no-store` mean zero. Bounds are applied by the caller.
 */

/** Lifetime in milliseconds from `Cache-Control` and `Age`, or `undefined` when the response sets none. */
export function freshnessLifetime(cacheControl: string | null, age: string | null): number | undefined {
  if (cacheControl === null) return undefined;
  let maxAge: number | undefined;
  for (const directive of cacheControl.split(',')) {
    const [rawName, rawValue] = directive.split('=', 2);
    const name = rawName!.trim().toLowerCase();
    if (name === 'no-cache' || name === 'no-store') return 0;
    if (name === 'max-age' && rawValue !== undefined) {
      const value = rawValue.trim().replace(/^"(.*)"$/, '$1');
      if (/^\d+$/.test(value)) maxAge = Number(value) * 1000;
    }
  }
  if (maxAge === undefined) return undefined;
  const ageSeconds = age !== null && /^\d+$/.test(age.trim()) ? Number(age.trim()) : 0;
  return Math.max(0, maxAge - ageSeconds * 1000);
}
