/**
 * Internal: one JWKS retrieval through jwks-rsa, with the response headers kept.
 *
 * jwks-rsa's `JwksClient` does the retrieval, with its own caching and rate limiting switched off
 * (the remote key source holds the only cache). Its built-in HTTP request hands back only the
 * body, and its `timeout` is a socket-idle timeout; so the client gets a `fetcher` built on
 * `fetchJsonObject` (a hard deadline for the whole request, redirects refused, every failure an
 * `UpstreamError` naming the URL). The fetcher files the response headers under the `keys` array
 * it returns (a `WeakMap`), and `getKeys()` hands that same array back, so each retrieval gets its
 * own `Cache-Control` even if two ever overlapped. Keys are imported by the caller with
 * `node:crypto` straight from the JWK (jwks-rsa's `getSigningKeys()` would round-trip each key
 * through WebCrypto to a PEM string and drop `key_ops`).
 */
import jwksRsa from 'jwks-rsa';
import { fetchJsonObject } from '../lib/http.js';

/** What one retrieval returns: the `keys` member as received, and the caching headers. */
export interface JwksRetrieval {
  keys: unknown;
  cacheControl: string | null;
  age: string | null;
}

/** Makes a function that retrieves `uri` through jwks-rsa with a hard `timeoutMs` per request. */
export function createJwksRetriever(uri: string, timeoutMs: number): () => Promise<JwksRetrieval> {
  const headersByKeys = new WeakMap<object, Headers>();
  const client = new jwksRsa.JwksClient({
    jwksUri: uri,
    cache: false,
    rateLimit: false,
    timeout: timeoutMs,
    fetcher: async (url: string) => {
      const { body, headers } = await fetchJsonObject(url, timeoutMs);
      if (typeof body.keys === 'object' && body.keys !== null) headersByKeys.set(body.keys, headers);
      return body as { keys: unknown };
    },
  });
  return async () => {
    const keys: unknown = await client.getKeys();
    const headers = typeof keys === 'object' && keys !== null ? headersByKeys.get(keys) : undefined;
    return {
      keys,
      cacheControl: headers?.get('cache-control') ?? null,
      age: headers?.get('age') ?? null,
    };
  };
}
