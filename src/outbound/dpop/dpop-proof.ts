/**
 * DPoP proofs (RFC 9449 section 4.2): a JWS with `typ: dpop+jwt`, the signing algorithm and the
 * public JWK in the header, and `jti`, `htm`, `htu`, `iat`, and `ath` (with an access token) and
 * `nonce` (when the server gave one) in the payload. The header segment is encoded once per key;
 * a proof is one JSON encoding and one signature. node:crypto signs (ECDSA in the JOSE
 * `r || s` form, RFC 7518 section 3.4), so the per-request path loads nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { DpopKey } from './dpop-key.js';

/** What one proof is for. */
export interface ProofTarget {
  /** The HTTP method, exactly as sent. */
  readonly htm: string;
  /** The target URL (parsed once by the caller, when it has it parsed); its query and fragment are dropped (section 4.2). */
  readonly url: string | URL;
  /** The access token the request carries: its hash becomes `ath` (section 4.2). */
  readonly accessToken?: string | undefined;
  /** The server's `DPoP-Nonce`, when it gave one (sections 8 and 9). */
  readonly nonce?: string | undefined;
}

/**
 * `htu`: the URL without query and fragment (RFC 9449 section 4.2), normalised as WHATWG URL does:
 * its origin and path. Credentials in the URL are not part of the origin, so they never go into a
 * signed proof (undici refuses such URLs; a custom fetch may not).
 */
export function proofUrl(url: string | URL): string {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  return `${parsed.origin}${parsed.pathname}`;
}

/** `ath`: base64url(SHA-256(ASCII of the access token)) (RFC 9449 section 4.2). */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/**
 * The method as `fetch` sends it: the methods the Fetch standard normalises (DELETE, GET, HEAD,
 * OPTIONS, POST, PUT) upper-cased, any other one as given (`patch` goes out as `patch`).
 */
export function sentMethod(method: string): string {
  const upper = method.toUpperCase();
  return NORMALISED_METHODS.has(upper) ? upper : method;
}

const NORMALISED_METHODS: ReadonlySet<string> = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);

/** Signs DPoP proofs with one key. */
export class DpopProofSigner {
  readonly #key: DpopKey;
  readonly #header: string;
  readonly #now: () => number;
  /** The last access token and its `ath`: a provider presents the same token for a long time. */
  #athFor: { token: string; ath: string } | undefined;

  constructor(key: DpopKey, now: () => number) {
    this.#key = key;
    this.#now = now;
    this.#header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk })).toString('base64url');
  }

  /** A new proof for `target`: a fresh `jti` (128 random bits) and `iat`, every time. */
  proof(target: ProofTarget): string {
    const claims: Record<string, string | number> = {
      jti: randomBytes(16).toString('base64url'),
      htm: target.htm,
      htu: proofUrl(target.url),
      iat: Math.floor(this.#now() / 1000),
    };
    if (target.accessToken !== undefined) claims.ath = this.#ath(target.accessToken);
    if (target.nonce !== undefined) claims.nonce = target.nonce;
    const signingInput = `${this.#header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${signingInput}.${this.#key.sign(signingInput)}`;
  }

  #ath(token: string): string {
    if (this.#athFor?.token !== token) this.#athFor = { token, ath: accessTokenHash(token) };
    return this.#athFor.ath;
  }
}
