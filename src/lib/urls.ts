/** Internal: the one check that a configured or discovered URL is an absolute http(s) URL. */

/** Whether `value` is a string holding an absolute `http:` or `https:` URL. */
export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'https:' || protocol === 'http:';
}
