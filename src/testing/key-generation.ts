/**
 * Internal: key generation for the local issuer.
 *
 * Keys are generated as PEM and imported: exporting a JWK from a key fresh out of
 * `generateKeyPairSync` was seen to deadlock on Node 20 (see TOOLCHAIN.md); importing the PEM
 * first avoids that. RSA-2048 generation is slow (0.1 s idle, over 0.5 s on a loaded machine), so
 * once an RSA algorithm has been needed twice in a process (a suite that creates several issuers
 * or rotates keys), one spare key for it is kept generated in the background on libuv's thread
 * pool, and the next issuer or rotation takes it at once. A process that needs one key never pays
 * for a spare. A spare is handed out once only, so no two keys are ever the same.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { JWK } from 'jose';
import type { LocalIssuerAlgorithm } from './types.js';

/** One signing key. */
export interface RingKey {
  kid: string;
  alg: LocalIssuerAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JWK;
  publicPem: string;
}

function generatePemPair(alg: LocalIssuerAlgorithm): { publicKey: string; privateKey: string } {
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  switch (alg) {
    case 'RS256': case 'RS384': case 'RS512': case 'PS256': case 'PS384': case 'PS512':
      return generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding, privateKeyEncoding });
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding, privateKeyEncoding });
    case 'ES384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384', publicKeyEncoding, privateKeyEncoding });
    case 'ES512':
      return generateKeyPairSync('ec', { namedCurve: 'P-521', publicKeyEncoding, privateKeyEncoding });
    case 'EdDSA':
      return generateKeyPairSync('ed25519', { publicKeyEncoding, privateKeyEncoding });
  }
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** Same as {@link generatePemPair}, on libuv's thread pool (does not block the event loop). */
async function generatePemPairAsync(alg: LocalIssuerAlgorithm): Promise<{ publicKey: string; privateKey: string }> {
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  switch (alg) {
    case 'RS256': case 'RS384': case 'RS512': case 'PS256': case 'PS384': case 'PS512':
      return generateKeyPairAsync('rsa', { modulusLength: 2048, publicKeyEncoding, privateKeyEncoding });
    case 'ES256':
      return generateKeyPairAsync('ec', { namedCurve: 'P-256', publicKeyEncoding, privateKeyEncoding });
    case 'ES384':
      return generateKeyPairAsync('ec', { namedCurve: 'P-384', publicKeyEncoding, privateKeyEncoding });
    case 'ES512':
      return generateKeyPairAsync('ec', { namedCurve: 'P-521', publicKeyEncoding, privateKeyEncoding });
    case 'EdDSA':
      return generateKeyPairAsync('ed25519', { publicKeyEncoding, privateKeyEncoding });
  }
}

function ringKeyFromPem(alg: LocalIssuerAlgorithm, pair: { publicKey: string; privateKey: string }): RingKey {
  const privateKey = createPrivateKey(pair.privateKey);
  const publicKey = createPublicKey(pair.publicKey);
  const kid = `${alg.toLowerCase()}-${randomBytes(6).toString('hex')}`;
  const publicJwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, publicJwk, publicPem: pair.publicKey };
}

function isRsa(alg: LocalIssuerAlgorithm): boolean {
  return alg.startsWith('RS') || alg.startsWith('PS');
}

/** Keys handed out per algorithm in this process. */
const handedOut = new Map<LocalIssuerAlgorithm, number>();
const spares = new Map<LocalIssuerAlgorithm, RingKey>();
const refills = new Map<LocalIssuerAlgorithm, Promise<void>>();

/**
 * Called for every key handed out: from the second RSA key of an algorithm on, starts generating
 * a spare in the background unless one exists or is on its way.
 */
function refill(alg: LocalIssuerAlgorithm): void {
  handedOut.set(alg, (handedOut.get(alg) ?? 0) + 1);
  if (!isRsa(alg) || (handedOut.get(alg) ?? 0) < 2 || spares.has(alg) || refills.has(alg)) return;
  const refilling = generatePemPairAsync(alg)
    .then((pair) => {
      spares.set(alg, ringKeyFromPem(alg, pair));
    })
    .catch(() => undefined)
    .finally(() => refills.delete(alg));
  refills.set(alg, refilling);
}

function takeSpare(alg: LocalIssuerAlgorithm): RingKey | undefined {
  const spare = spares.get(alg);
  if (spare) spares.delete(alg);
  return spare;
}

/** A new key for `alg` with a random kid (a spare when one is ready, else generated now). */
export function generateRingKey(alg: LocalIssuerAlgorithm): RingKey {
  const key = takeSpare(alg) ?? ringKeyFromPem(alg, generatePemPair(alg));
  refill(alg);
  return key;
}

/** Same as {@link generateRingKey} without blocking the event loop. */
export async function generateRingKeyAsync(alg: LocalIssuerAlgorithm): Promise<RingKey> {
  let key = takeSpare(alg);
  if (!key && refills.has(alg)) {
    await refills.get(alg);
    key = takeSpare(alg);
  }
  key ??= ringKeyFromPem(alg, await generatePemPairAsync(alg));
  refill(alg);
  return key;
}
