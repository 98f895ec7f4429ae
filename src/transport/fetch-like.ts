/**
 * The transport seam: every network call express-m2m makes (discovery, JWKS, token endpoint,
 * downstream calls of `provider.fetch()`) goes through one function with the signature of the
 * WHATWG `fetch`. By default that is the platform's global `fetch`, read at call time (so a test
 * that replaces it, or undici's `setGlobalDispatcher`, applies); the `fetch` option of
 * `requireAuth`, `createVerifier`, `createKeySource`, `clientCredentials` and `outboundAuth`
 * replaces it, e.g. to route through a proxy, pin a CA or present a client certificate with
 * undici's own `fetch` and a dispatcher.
 */

/**
 * A function with the signature of the platform `fetch`: what the `fetch` option takes.
 *
 * @example
 * ```ts
 * import { fetch as undiciFetch, ProxyAgent } from 'undici';
 * import { requireAuth, type FetchLike } from 'express-m2m';
 *
 * const proxy = new ProxyAgent(process.env.HTTPS_PROXY ?? 'http://127.0.0.1:3128');
 * const viaProxy: FetchLike = (input, init) => undiciFetch(input as string, { ...init, dispatcher: proxy } as never) as never;
 * app.use(requireAuth({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example', fetch: viaProxy }));
 * ```
 */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The platform's `fetch`, looked up when called (never captured at import). */
export const platformFetch: FetchLike = (input, init) => fetch(input, init);
