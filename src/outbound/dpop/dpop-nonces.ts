/**
 * DPoP nonces (RFC 9449 sections 8 and 9): the last `DPoP-Nonce` each server (by origin) sent,
 * read from every answer that carries one and put into the next proof for that origin. Bounded:
 * at most {@link MAX_NONCE_ORIGINS} origins, the least recently updated forgotten first.
 */

/** Origins whose nonce is kept, per provider and side (token endpoint, resource servers). */
export const MAX_NONCE_ORIGINS = 100;
/** Longest nonce kept; a longer one is ignored (it would go into every proof). */
const MAX_NONCE_LENGTH = 1024;
/** `nonce = 1*NQCHAR` (RFC 9449 section 8.1): printable ASCII without `"` and `\`. */
const NONCE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

export class DpopNonces {
  readonly #byOrigin = new Map<string, string>();

  /** The nonce to put into a proof for `url`, if its server gave one. */
  get(url: string | URL): string | undefined {
    return this.#byOrigin.get(originOf(url));
  }

  /**
   * Remembers the `DPoP-Nonce` of an answer from `url` and returns it (undefined when the answer
   * has none, or an unusable one). Whether a retry can help is for the caller to say, against the
   * nonce its own request carried: requests in flight together each get the answer meant for them.
   */
  observe(url: string | URL, response: Response): string | undefined {
    const nonce = response.headers.get('dpop-nonce');
    if (nonce === null || nonce.length > MAX_NONCE_LENGTH || !NONCE.test(nonce)) return undefined;
    const origin = originOf(url);
    if (this.#byOrigin.get(origin) !== nonce) {
      this.#byOrigin.delete(origin);
      this.#byOrigin.set(origin, nonce);
      if (this.#byOrigin.size > MAX_NONCE_ORIGINS) this.#byOrigin.delete(this.#byOrigin.keys().next().value as string);
    }
    return nonce;
  }

  /** How many origins have a nonce (for tests). */
  get size(): number {
    return this.#byOrigin.size;
  }
}

function originOf(url: string | URL): string {
  return (typeof url === 'string' ? new URL(url) : url).origin;
}
