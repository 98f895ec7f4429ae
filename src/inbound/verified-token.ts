/**
 * What the inbound pipeline hands on for an admitted request: the verified access token. One
 * type for every verifier, the guards and `req.auth`.
 */
import type { JWTHeaderParameters, JWTPayload } from 'jose';

/**
 * `T` read-only all the way down (objects and arrays): the type of what the verifier deep-freezes.
 *
 * @example
 * ```ts
 * import type { DeepReadonly } from 'express-m2m';
 *
 * type Claims = DeepReadonly<{ roles: string[] }>;
 * const claims: Claims = { roles: ['admin'] };
 * // claims.roles.push('x'); // type error: the verified payload is frozen
 * ```
 */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer Item)[]
    ? readonly DeepReadonly<Item>[]
    : T extends object
      ? { readonly [Key in keyof T]: DeepReadonly<T[Key]> }
      : T;

/**
 * A verified access token: what `requireAuth` puts on `req.auth`, what `createVerifier` returns
 * and what guards check. The object (with its `header`, `payload` and `scopes`) is deeply frozen:
 * with the verified-token cache on, the same object is returned for every request that presents
 * the same token. `Claims` types the application's own claims.
 *
 * @example
 * ```ts
 * import type { VerifiedToken } from 'express-m2m';
 *
 * type Claims = { client_id: string; tenant?: string };
 * function tenantOf(auth: VerifiedToken<Claims>): string | undefined {
 *   return auth.scopes.includes('admin') ? undefined : auth.payload.tenant;
 * }
 * ```
 */
export interface VerifiedToken<Claims = JWTPayload> {
  /** The token as presented (compact JWS, or an opaque token). A secret: never log it. */
  readonly token: string;
  /** The token's protected header (deeply frozen); `{}` for a token checked by introspection (an opaque token has none). */
  readonly header: DeepReadonly<JWTHeaderParameters>;
  /** The token's claims (deeply frozen); for a token checked by introspection, the endpoint's answer (with `active: true`). */
  readonly payload: DeepReadonly<Claims & JWTPayload>;
  /** The scopes granted by the token, from the `scopeClaim` claim (empty when absent or `''`). */
  readonly scopes: readonly string[];
  /**
   * `'DPoP'` when the token was presented with the DPoP scheme and its proof checked (RFC 9449);
   * absent for a Bearer token.
   */
  readonly scheme?: 'DPoP';
  /** With `scheme: 'DPoP'`: the RFC 7638 thumbprint of the proof's key, the token's `cnf.jkt`. */
  readonly jkt?: string;
}
