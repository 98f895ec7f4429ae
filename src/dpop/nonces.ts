/**
 * DPoP nonces (RFC 9449 section 8 and 9) without a store: a nonce names a time window and is
 * authenticated with a secret, `base64url(window || HMAC-SHA256(secret, "dpop-nonce" || window)[0..16])`.
 * Every replica given the same secret issues and accepts the same nonces, so no shared state is
 * needed. A nonce is accepted in its window and the next one (so a nonce handed out at the end of
 * a window is not refused at once); a successful response carries the current nonce, so clients
 * move to each new one as it comes.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a nonce is, now. */
export type NonceState = 'current' | 'previous' | 'next' | 'invalid';

/** Issues and checks nonces. */
export interface NonceSource {
  /** The nonce of the current window (computed once per window). */
  current(): string;
  /** Whether `nonce` is the current window's, the previous or the next one's, or not acceptable. */
  check(nonce: string): NonceState;
}

const WINDOW_BYTES = 6;
const MAC_BYTES = 16;
const NONCE_LENGTH = Math.ceil(((WINDOW_BYTES + MAC_BYTES) * 4) / 3);

/** The secret of a nonce source: the bytes given, or 32 random bytes (nonces of this process only). */
export function nonceSecret(given: Uint8Array | string | undefined): Buffer {
  if (given === undefined) return randomBytes(32);
  return Buffer.from(given);
}

/** A nonce source: windows of `rotation` milliseconds of the clock `now`. */
export function createNonceSource(secret: Uint8Array, rotation: number, now: () => number): NonceSource {
  const key = Buffer.from(secret);
  let cachedWindow = -1;
  let cachedNonce = '';

  const mac = (window: number): Buffer => {
    const counter = Buffer.alloc(WINDOW_BYTES);
    counter.writeUIntBE(window, 0, WINDOW_BYTES);
    return createHmac('sha256', key).update('dpop-nonce').update(counter).digest().subarray(0, MAC_BYTES);
  };
  const make = (window: number): string => {
    const counter = Buffer.alloc(WINDOW_BYTES);
    counter.writeUIntBE(window, 0, WINDOW_BYTES);
    return Buffer.concat([counter, mac(window)]).toString('base64url');
  };
  const windowNow = (): number => Math.floor(now() / rotation);

  return {
    current() {
      const window = windowNow();
      if (window !== cachedWindow) {
        cachedWindow = window;
        cachedNonce = make(window);
      }
      return cachedNonce;
    },
    check(nonce) {
      if (nonce.length !== NONCE_LENGTH) return 'invalid';
      const bytes = Buffer.from(nonce, 'base64url');
      if (bytes.length !== WINDOW_BYTES + MAC_BYTES || bytes.toString('base64url') !== nonce) return 'invalid';
      const window = bytes.readUIntBE(0, WINDOW_BYTES);
      const current = windowNow();
      // The previous window (a nonce handed out just before a rotation) and the next one (handed out
      // by a replica whose clock runs a little ahead): both authenticated by the HMAC all the same.
      if (window !== current && window !== current - 1 && window !== current + 1) return 'invalid';
      if (!timingSafeEqual(bytes.subarray(WINDOW_BYTES), mac(window))) return 'invalid';
      return window === current ? 'current' : window < current ? 'previous' : 'next';
    },
  };
}
