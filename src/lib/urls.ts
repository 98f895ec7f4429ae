/** Internal: the one check that a configured or discovered URL is an absolute http(s) URL, and whether plain http is safe for it. */

/** Whether `value` is a string holding an absolute `http:` or `https:` URL. */
export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'https:' || protocol === 'http:';
}

/**
 * Whether `url` names this machine: `localhost` (and `*.localhost`, RFC 6761 section 6.3),
 * 127.0.0.0/8 or `[::1]`. Plain http to it never crosses a network.
 */
export function isLoopback(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host === '[::1]') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
