/**
 * `requireAuth({ dpop })` / `createAuthenticator({ dpop })`: the options of DPoP (RFC 9449) on
 * the resource server, read, validated and defaulted here and nowhere else (the credentials step,
 * the binding check, the challenge and the metadata all take the one {@link ResolvedDpop}).
 */
import type { JwsAlgorithm } from '../keys/algorithms.js';
import { ASYMMETRIC_ALGORITHMS } from '../keys/algorithms.js';
import type { OptionReader, KnownOptions } from '../options/option-reader.js';
import { createNonceSource, nonceSecret, type NonceSource } from './nonces.js';
import { memoryReplayStore, type DpopReplayStore } from './replay-store.js';
import { DpopProofVerifier } from './verify-proof.js';

/**
 * DPoP on an API (RFC 9449). Without a `dpop` option DPoP is off, as in earlier versions: only
 * Bearer tokens are accepted and a DPoP-bound token (`cnf.jkt`) is refused. With `dpop: {}`, both
 * schemes are accepted (`mode: 'allowed'`), each proof is checked (RFC 9449 section 4.3 and 7.1)
 * and recorded in memory against replay. A DPoP-bound token is never accepted as a Bearer token,
 * in any mode.
 *
 * @example
 * ```ts
 * import { requireAuth, type InboundDpopOptions } from 'express-m2m';
 * import { redisReplayStore } from 'express-m2m/redis';
 *
 * const dpop: InboundDpopOptions = {
 *   mode: 'required',
 *   algorithms: ['ES256', 'EdDSA'],
 *   replayStore: redisReplayStore({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }),
 *   nonce: { secret: process.env.DPOP_NONCE_SECRET ?? 'a placeholder secret of 32+ characters' },
 * };
 * app.use(requireAuth({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example', dpop }));
 * ```
 */
export interface InboundDpopOptions {
  /**
   * `'allowed'`: DPoP and Bearer both accepted (a `cnf.jkt`-bound token only with its proof);
   * `'required'`: only DPoP (a Bearer request gets 401 with a `DPoP` challenge); `'off'`: as without
   * the option. Default `'allowed'`.
   */
  mode?: 'off' | 'allowed' | 'required';
  /**
   * The proof signature algorithms accepted (asymmetric only; the `algs` of the challenge). Default:
   * ES256, ES384, ES512, EdDSA, PS256, PS384, PS512, RS256, RS384, RS512.
   */
  algorithms?: JwsAlgorithm[];
  /** Oldest accepted proof, in seconds after its `iat`. Default 300. */
  maxAge?: number;
  /** Seconds of clock difference tolerated between the client and this server, both ways, on `iat`. Default 5. */
  clockTolerance?: number;
  /** Largest accepted `DPoP` header, in characters. Default 8192. */
  maxProofSize?: number;
  /**
   * Where seen proofs are recorded, so each is accepted once. Default: `memoryReplayStore()` (this
   * process only, 100000 proofs at most). Several replicas: `redisReplayStore` of
   * `express-m2m/redis`. A store that fails gets the request a 503 (and a
   * `dpop.replay_store_failed` event), never an unchecked admission.
   */
  replayStore?: DpopReplayStore;
  /**
   * Require server nonces (RFC 9449 section 9): a proof without the current nonce gets 401
   * `use_dpop_nonce` with a `DPoP-Nonce` header, and successful DPoP responses carry the current
   * nonce. Nonces are derived from `secret` and the time window, so replicas with the same secret
   * accept each other's nonces without a store. `true`: a random secret (one process only).
   * Default: no nonces.
   */
  nonce?: true | DpopNonceOptions;
}

/**
 * Server nonces of {@link InboundDpopOptions}.
 *
 * @example
 * ```ts
 * import type { DpopNonceOptions } from 'express-m2m';
 *
 * const nonce: DpopNonceOptions = { secret: process.env.DPOP_NONCE_SECRET ?? 'a placeholder secret of 32+ characters', rotation: 120 };
 * ```
 */
export interface DpopNonceOptions {
  /** The secret nonces are derived from: at least 32 bytes (or characters); the same on every replica. Default: random (one process only). */
  secret?: string | Uint8Array;
  /** Seconds between two nonces; a nonce is accepted for up to twice this. Default 300. */
  rotation?: number;
}

/**
 * The defaults of {@link InboundDpopOptions}.
 *
 * @example
 * ```ts
 * import { DPOP_DEFAULTS } from 'express-m2m';
 *
 * console.log(`DPoP proofs are accepted for ${DPOP_DEFAULTS.maxAge} s`);
 * ```
 */
export const DPOP_DEFAULTS = Object.freeze({
  /** `mode` when `dpop` is given (without it, DPoP is off). */
  mode: 'allowed' as const,
  /** The proof algorithms accepted. */
  algorithms: Object.freeze(['ES256', 'ES384', 'ES512', 'EdDSA', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'] as const),
  /** Oldest accepted proof, in seconds after its `iat`. */
  maxAge: 300,
  /** Seconds of clock difference tolerated on `iat`. */
  clockTolerance: 5,
  /** Largest accepted `DPoP` header, in characters. */
  maxProofSize: 8192,
  /** Seconds between two nonces (`nonce.rotation`). */
  nonceRotation: 300,
});

const DPOP_OPTION_NAMES: KnownOptions<InboundDpopOptions> = {
  mode: true, algorithms: true, maxAge: true, clockTolerance: true, maxProofSize: true, replayStore: true, nonce: true,
};
const NONCE_OPTION_NAMES: KnownOptions<DpopNonceOptions> = { secret: true, rotation: true };
const MIN_SECRET_BYTES = 32;

/** DPoP as configured: what every step of the pipeline takes. */
export interface ResolvedDpop {
  readonly mode: 'allowed' | 'required';
  readonly algorithms: readonly string[];
  readonly proofs: DpopProofVerifier;
  readonly replayStore: DpopReplayStore;
  readonly nonces: NonceSource | undefined;
  readonly maxProofSize: number;
  /** Seconds of clock difference tolerated (also how much longer a proof's replay record is kept). */
  readonly clockTolerance: number;
  readonly now: () => number;
}

/** What has been read, per reader (so the credentials step, the binding check and requireAuth share one reading). */
const resolved = new WeakMap<object, ResolvedDpop | null>();

interface WithDpop {
  dpop?: InboundDpopOptions;
  now?: () => number;
}

/** Internal: the `dpop` option of a pipeline's options, read once per reader; `undefined` when DPoP is off. */
export function readDpop(read: OptionReader<WithDpop>): ResolvedDpop | undefined {
  const known = resolved.get(read);
  if (known !== undefined) return known ?? undefined;
  const value = read.has('dpop') ? readDpopOptions(read) : undefined;
  resolved.set(read, value ?? null);
  return value;
}

function readDpopOptions(parent: OptionReader<WithDpop>): ResolvedDpop | undefined {
  const read = parent.nested<InboundDpopOptions>('dpop', DPOP_OPTION_NAMES);
  const mode = read.oneOf('mode', ['off', 'allowed', 'required'] as const, DPOP_DEFAULTS.mode);
  const now = parent.func<() => number>('now', 'a function returning milliseconds') ?? Date.now;
  const algorithms = read.stringList('algorithms', { expected: 'a non-empty array of asymmetric JWS algorithms' }) ?? [...DPOP_DEFAULTS.algorithms];
  const unsupported = algorithms.find((alg) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg));
  if (unsupported !== undefined) {
    read.fail('algorithms', `has ${JSON.stringify(unsupported.slice(0, 20))}: a DPoP proof is signed with an asymmetric algorithm (${ASYMMETRIC_ALGORITHMS.join(', ')})`);
  }
  const maxAge = read.seconds('maxAge', DPOP_DEFAULTS.maxAge);
  if (maxAge === 0) read.fail('maxAge', 'must be more than 0 seconds');
  const clockTolerance = read.seconds('clockTolerance', DPOP_DEFAULTS.clockTolerance);
  const maxProofSize = read.integer('maxProofSize', DPOP_DEFAULTS.maxProofSize, { min: 256 });
  const store = read.raw('replayStore');
  if (store !== undefined && (typeof store !== 'object' || store === null || typeof (store as DpopReplayStore).remember !== 'function')) {
    read.fail('replayStore', 'must be a DpopReplayStore (an object with a remember(key, expiresAt, now) method), e.g. redisReplayStore()');
  }
  const nonces = readNonces(read, now);
  if (mode === 'off') return undefined;
  return Object.freeze({
    mode,
    algorithms: Object.freeze(algorithms),
    proofs: new DpopProofVerifier({ algorithms: new Set(algorithms), maxAge, clockTolerance, maxProofSize, now }),
    replayStore: (store as DpopReplayStore | undefined) ?? memoryReplayStore(),
    nonces,
    maxProofSize,
    clockTolerance,
    now,
  });
}

function readNonces(read: OptionReader<InboundDpopOptions>, now: () => number): NonceSource | undefined {
  const value = read.raw('nonce');
  if (value === undefined) return undefined;
  if (value === true) return createNonceSource(nonceSecret(undefined), DPOP_DEFAULTS.nonceRotation * 1000, now);
  if (typeof value !== 'object' || value === null) read.fail('nonce', 'must be true or { secret, rotation }');
  const nonce = read.nested<DpopNonceOptions>('nonce', NONCE_OPTION_NAMES);
  const secret = nonce.raw('secret');
  if (secret !== undefined && !((typeof secret === 'string' && secret.length >= MIN_SECRET_BYTES)
    || (ArrayBuffer.isView(secret) && secret.byteLength >= MIN_SECRET_BYTES))) {
    nonce.fail('secret', `must be a string of at least ${MIN_SECRET_BYTES} characters or at least ${MIN_SECRET_BYTES} bytes`);
  }
  const rotation = nonce.seconds('rotation', DPOP_DEFAULTS.nonceRotation);
  if (rotation < 1) nonce.fail('rotation', 'must be at least 1 second');
  return createNonceSource(nonceSecret(secret as string | Uint8Array | undefined), rotation * 1000, now);
}
