/**
 * AES-256-GCM encryption of cached token values (node:crypto). The Redis key is the additional
 * authenticated data, so a value copied under another key does not decrypt.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const PREFIX = 'enc1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * A key for {@link encryptValue}: 32 random bytes, or a passphrase of at least 32 characters (stretched with HKDF-SHA256).
 *
 * @example
 * ```ts
 * import { randomBytes } from 'node:crypto';
 * import { redisTokenCache, type EncryptionKey } from 'express-m2m/redis';
 *
 * const encryptionKey: EncryptionKey = process.env.TOKEN_CACHE_KEY ?? randomBytes(32); // share it between replicas
 * const cache = redisTokenCache({ url: 'redis://127.0.0.1:6379', encryptionKey });
 * ```
 */
export type EncryptionKey = string | Uint8Array;

/** Turns the `encryptionKey` option into 32 key bytes. Throws a TypeError naming the option. */
export function deriveEncryptionKey(key: EncryptionKey): Buffer {
  if (key instanceof Uint8Array) {
    if (key.length !== 32) throw new TypeError('redisTokenCache: "encryptionKey" bytes must be exactly 32 bytes (AES-256)');
    return Buffer.from(key);
  }
  if (typeof key !== 'string' || key.length < 32) {
    throw new TypeError('redisTokenCache: "encryptionKey" must be 32 bytes or a string of at least 32 characters');
  }
  return Buffer.from(hkdfSync('sha256', key, 'express-m2m token cache', 'aes-256-gcm value key', 32));
}

/** Encrypts `plaintext` for storage under `aad` (the Redis key). */
export function encryptValue(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
}

/** Decrypts a value from {@link encryptValue}; undefined when it is not ours, was tampered with or used another key. */
export function decryptValue(key: Buffer, stored: string, aad: string): string | undefined {
  if (!stored.startsWith(PREFIX)) return undefined;
  const raw = Buffer.from(stored.slice(PREFIX.length), 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
