/**
 * What the inbound pipeline knows of an HTTP request: a transport-neutral description built by a
 * framework adapter (the Express one is `src/express/express-inbound-request.ts`). Everything
 * that costs something to compute (the query string, the body, the absolute URL, the client
 * certificate) is read only by the step that needs it.
 */

/**
 * An HTTP request as the inbound pipeline (`createAuthenticator`) reads it.
 *
 * @example
 * ```ts
 * import type { InboundRequest } from 'express-m2m';
 *
 * // A request of some other framework, described for the pipeline.
 * const request: InboundRequest = {
 *   method: 'GET',
 *   target: '/orders?page=2',
 *   headerLines: (name) => {
 *     const value = ctx.request.headers[name];
 *     return value === undefined ? [] : Array.isArray(value) ? value : [value];
 *   },
 * };
 * const auth = await authenticator.authenticate(request);
 * ```
 */
export interface InboundRequest {
  /** The request method, e.g. `GET` (as sent; the pipeline compares case-insensitively where RFCs say so). */
  readonly method: string;
  /** The request target as received: path and query string, e.g. `/orders?page=2`. */
  readonly target: string;
  /**
   * Every line of the header `name` (lower-case), in order, as sent: a header sent twice gives two
   * lines (RFC 6750 and RFC 9449 refuse a request whose credentials come twice). Empty when absent.
   */
  headerLines(name: string): readonly string[];
  /** The parsed query string, when the framework parses it. Read only when query tokens are allowed. */
  readonly query?: unknown;
  /** The parsed body, when a body parser ran. Read only when body tokens are allowed, or to explain a rejection. */
  readonly body?: unknown;
  /**
   * The absolute URL the client sent the request to (scheme and host as the client used them),
   * when the adapter knows it. Read only by steps that need it (proof-of-possession checks).
   */
  readonly url?: string | undefined;
  /** The DER of the client certificate of the TLS connection, when the connection presented one. Read only by binding checks that need it. */
  readonly clientCertificate?: Uint8Array | undefined;
}
