/**
 * Internal: the one place where the JWT verifier's options are validated and defaulted (for
 * `createVerifier`, and for `requireAuth`, which reads them through its own reader so that its
 * messages name it and the environment variables). Every bad or contradictory option fails
 * here, at construction, with a message naming the option.
 */
import { DISCOVERY_TUNING_NAMES, resolveDiscoveryTuning, type ResolvedDiscoveryTuning } from '../../../discovery/metadata-discovery.js';
import { MIN_HMAC_KEY_BYTES, type JwsAlgorithm } from '../../../keys/algorithms.js';
import type { KeyMaterial } from '../../../keys/create-key-source.js';
import { JWKS_OPTION_NAMES, resolveJwksOptions, type ResolvedJwksOptions } from '../../../keys/options.js';
import type { KeySource } from '../../../keys/types.js';
import { issuerUrlProblem } from '../../issuers/issuer-key.js';
import type { KnownOptions, OptionReader } from '../../../options/option-reader.js';
import { platformFetch, type FetchLike } from '../../../transport/fetch-like.js';
import { readClaimRules, type CompiledClaimRules } from '../claim-rules.js';
import { ALGORITHMS, isSymmetric } from './algorithms.js';
import type { ResolvedVerifierOptions, VerifierEvent, VerifierOptions } from './types.js';

/** Defaults, in one place. */
export const VERIFIER_DEFAULTS = Object.freeze({
  clockTolerance: 5,
  scopeClaim: 'scope',
  maxTokenLength: 8192,
  cacheMaxEntries: 10_000,
  cacheMaxBytes: 32 * 1024 * 1024,
});

/** Every option `createVerifier` takes; the type keeps this list complete. */
export const VERIFIER_OPTION_NAMES: KnownOptions<VerifierOptions> = {
  issuerBaseURL: true, issuer: true, audience: true, jwksUri: true, publicKey: true, secret: true,
  keySource: true, algorithms: true, clockTolerance: true, maxTokenAge: true, strictTokenType: true,
  requiredClaims: true, scopeClaim: true, maxTokenLength: true, verifiedTokenCache: true, jwks: true,
  onEvent: true, now: true, fetch: true, allowInsecureHttp: true, discovery: true, claims: true,
};

const CACHE_OPTION_NAMES: KnownOptions<{ maxEntries: number; maxBytes: number }> = { maxEntries: true, maxBytes: true };

const MIN_SECRET_BYTES = MIN_HMAC_KEY_BYTES.HS256 as number;

/** Which kind of key source the options describe. */
export type KeySourceKind = 'jwks' | 'publicKey' | 'secret' | 'keySource';

/** Where the verifier's keys come from: built-in material (a JWKS URL left out is discovered), or a source of the user's. */
export type VerifierKeys =
  | { kind: 'keySource'; keySource: KeySource }
  | Exclude<KeyMaterial, { kind: 'jwks' }>
  | { kind: 'jwks'; jwksUri: string | undefined };

/** Everything the verifier is built from. */
export interface VerifierPlan {
  resolved: Omit<ResolvedVerifierOptions, 'algorithms'>;
  /** `undefined` only when the caller said no key is needed (every token introspected, responses unsigned). */
  keys: VerifierKeys | undefined;
  /** The JWKS tuning with defaults applied, for a remote JWKS. */
  jwks: ResolvedJwksOptions | undefined;
  /** The `claims` rules, compiled (`undefined` without any). */
  claims: CompiledClaimRules | undefined;
  /** The discovery tuning with defaults applied. */
  discovery: ResolvedDiscoveryTuning;
  /** The `algorithms` option as given (checked against the key source once it is built). */
  algorithms: readonly JwsAlgorithm[] | undefined;
  onEvent: ((event: VerifierEvent) => void) | undefined;
  now: () => number;
  fetch: FetchLike;
}

/** The environment variables that can give the required options, for the "how to fix it" part of messages. */
export interface RequiredOptionVariables {
  issuer?: string;
  audience?: string;
}

function isKeySource(value: unknown): value is KeySource {
  const source = value as KeySource | null;
  return typeof source === 'object' && source !== null && typeof source.getKey === 'function'
    && typeof source.warmUp === 'function' && typeof source.generation === 'number'
    && Array.isArray(source.algorithms) && source.algorithms.every((alg) => typeof alg === 'string');
}

/** Options that only matter when tokens (or signed responses) are verified with keys. */
const KEY_OPTIONS = ['jwksUri', 'publicKey', 'secret', 'keySource', 'jwks', 'algorithms', 'strictTokenType'] as const;

/**
 * Reads and validates the verifier's options (everything but what depends on the built key
 * source). `keysNeeded: false` (an issuer whose every token is introspected, with plain JSON
 * answers): no source of keys is looked for, and the options about keys are refused as unused.
 */
export function resolveVerifierOptions(
  read: OptionReader<VerifierOptions>,
  variables: RequiredOptionVariables = {},
  keysNeeded = true,
): VerifierPlan {
  const allowInsecure = read.boolean('allowInsecureHttp', false);
  const issuerBaseURL = read.httpUrl('issuerBaseURL', allowInsecure);
  const issuer = read.string('issuer');
  for (const [name, value] of [['issuerBaseURL', issuerBaseURL], ['issuer', issuer]] as const) {
    const problem = value === undefined ? undefined : issuerUrlProblem(value);
    if (problem !== undefined) read.fail(name, problem);
  }
  if (issuer === undefined && issuerBaseURL === undefined) {
    const how = variables.issuer === undefined ? '' : `: set ${variables.issuer} or pass "issuerBaseURL"`;
    read.failWith(`"issuer" or "issuerBaseURL" is required: tokens from any issuer would otherwise be accepted${how}`);
  }
  const claims = readClaimRules(read);
  if (claims?.replaces.aud === true) {
    if (read.has('audience')) read.failWith(`${read.describe('audience')} and ${read.describe('claims.aud')} both say which audiences are accepted: keep one`);
  } else if (!read.has('audience')) {
    read.required('audience', 'the identifier of this API: tokens minted for other APIs would otherwise be accepted', variables.audience);
  }
  const audience = read.stringList('audience', { string: 'single', expected: 'a non-empty string or an array of non-empty strings' }) ?? [];

  if (!keysNeeded) {
    for (const name of KEY_OPTIONS) {
      if (read.has(name)) {
        read.fail(name, 'is not used: with "introspection.tokens: \'all\'" every token is introspected, and no key verifies anything '
          + '(set "introspection.jwtResponse: true" to have the answers signed with the issuer\'s keys)');
      }
    }
  }
  const jwksUri = read.httpUrl('jwksUri', allowInsecure);
  const given = (['jwksUri', 'publicKey', 'secret', 'keySource'] as const).filter((name) => read.has(name));
  if (given.length > 1) {
    read.failWith(`${read.describe(given[0] as string)} and ${read.describe(given[1] as string)} cannot be used together: give exactly one source of keys`);
  }
  let keys: VerifierKeys | undefined;
  switch (keysNeeded ? given[0] : 'none') {
    case 'none':
      keys = undefined;
      break;
    case 'keySource': {
      const keySource = read.raw('keySource');
      if (!isKeySource(keySource)) read.fail('keySource', 'must implement the KeySource contract (getKey, algorithms, generation, warmUp)');
      keys = { kind: 'keySource', keySource };
      break;
    }
    case 'secret': {
      const secret = read.raw('secret');
      if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) read.fail('secret', 'must be a string or a Uint8Array');
      const bytes = typeof secret === 'string' ? Buffer.byteLength(secret, 'utf8') : secret.length;
      if (bytes < MIN_SECRET_BYTES) {
        read.fail('secret', `must be at least ${MIN_SECRET_BYTES} bytes (256 bits) for HS256 (RFC 7518 section 3.2), got ${bytes}`);
      }
      keys = { kind: 'secret', secret };
      break;
    }
    case 'publicKey': {
      const publicKey = read.raw('publicKey');
      if ((typeof publicKey !== 'object' && typeof publicKey !== 'string') || publicKey === null) {
        read.fail('publicKey', 'must be a PEM string, a JWK, a JWK Set or a KeyObject');
      }
      keys = { kind: 'publicKey', publicKey: publicKey as NonNullable<VerifierOptions['publicKey']> };
      break;
    }
    case 'jwksUri':
      keys = { kind: 'jwks', jwksUri };
      break;
    default:
      if (issuerBaseURL === undefined) read.failWith('no source of keys: set "issuerBaseURL", "jwksUri", "publicKey", "secret" or "keySource"');
      keys = { kind: 'jwks', jwksUri: undefined };
  }
  if (read.has('jwks') && keys?.kind !== 'jwks') read.fail('jwks', 'options apply only to a remote JWKS ("jwksUri" or "issuerBaseURL")');
  // The key source is built from these without validating again (one place for the verifier's options).
  const jwks = keys?.kind === 'jwks' ? resolveJwksOptions(read.nested('jwks', JWKS_OPTION_NAMES)) : undefined;
  if (read.has('discovery') && issuerBaseURL === undefined) read.fail('discovery', 'options apply only with "issuerBaseURL"');
  const discovery = resolveDiscoveryTuning(read.nested('discovery', DISCOVERY_TUNING_NAMES));

  const algorithms = read.stringList('algorithms');
  for (const alg of algorithms ?? []) {
    if (alg.toLowerCase() === 'none') read.fail('algorithms', 'must not contain "none": unsigned tokens are never accepted');
    if (!ALGORITHMS.has(alg)) read.fail('algorithms', `contains unsupported algorithm ${JSON.stringify(alg)}; supported: ${[...ALGORITHMS.keys()].join(', ')}`);
    if (isSymmetric(alg) && keys?.kind !== 'secret' && keys?.kind !== 'keySource') {
      read.fail('algorithms', `contains ${alg}, which needs "secret": HS algorithms are never allowed with public keys`);
    }
    if (!isSymmetric(alg) && keys?.kind === 'secret') read.fail('algorithms', `contains ${alg}, which cannot be verified with "secret"`);
  }

  const cacheOption = read.raw('verifiedTokenCache');
  let verifiedTokenCache: ResolvedVerifierOptions['verifiedTokenCache'];
  if (cacheOption === false) verifiedTokenCache = false;
  else if (cacheOption === undefined || cacheOption === true) {
    verifiedTokenCache = { maxEntries: VERIFIER_DEFAULTS.cacheMaxEntries, maxBytes: VERIFIER_DEFAULTS.cacheMaxBytes };
  } else if (typeof cacheOption === 'object' && cacheOption !== null && !Array.isArray(cacheOption)) {
    const cache = read.nested('verifiedTokenCache', CACHE_OPTION_NAMES);
    verifiedTokenCache = {
      maxEntries: cache.integer('maxEntries', VERIFIER_DEFAULTS.cacheMaxEntries),
      maxBytes: cache.integer('maxBytes', VERIFIER_DEFAULTS.cacheMaxBytes),
    };
  } else read.fail('verifiedTokenCache', 'must be a boolean or an object like { maxEntries: 10000, maxBytes: 33554432 }');

  const resolved: Omit<ResolvedVerifierOptions, 'algorithms'> = {
    issuer,
    issuerBaseURL,
    audience,
    clockTolerance: read.seconds('clockTolerance', VERIFIER_DEFAULTS.clockTolerance),
    maxTokenAge: read.seconds('maxTokenAge'),
    strictTokenType: read.boolean('strictTokenType', false),
    requiredClaims: read.stringList('requiredClaims', { empty: true }) ?? [],
    scopeClaim: read.string('scopeClaim') ?? VERIFIER_DEFAULTS.scopeClaim,
    maxTokenLength: read.integer('maxTokenLength', VERIFIER_DEFAULTS.maxTokenLength),
    verifiedTokenCache,
  };
  return {
    resolved,
    keys,
    jwks,
    discovery,
    claims,
    algorithms: algorithms as JwsAlgorithm[] | undefined,
    onEvent: read.func<(event: VerifierEvent) => void>('onEvent'),
    now: read.func<() => number>('now', 'a function returning milliseconds') ?? Date.now,
    fetch: read.func<FetchLike>('fetch', 'a function with the signature of fetch') ?? platformFetch,
  };
}

/**
 * The allowlist: the `algorithms` option checked against what the key source can serve, or by
 * default everything the key source serves that the verifier supports.
 */
export function resolveAlgorithms(
  read: OptionReader<VerifierOptions>,
  requested: readonly string[] | undefined,
  served: readonly string[],
  keySourceKind: KeySourceKind,
): JwsAlgorithm[] {
  if (requested !== undefined) {
    for (const alg of requested) {
      if (!served.includes(alg)) {
        read.fail('algorithms', `contains ${alg}, which the key source cannot verify (it serves ${served.join(', ') || 'nothing'})`);
      }
    }
    // Every name was checked against the table by resolveVerifierOptions.
    return [...requested] as JwsAlgorithm[];
  }
  const algorithms = served.filter(
    (alg): alg is JwsAlgorithm => ALGORITHMS.has(alg) && (keySourceKind === 'secret' || keySourceKind === 'keySource' || !isSymmetric(alg)),
  );
  if (algorithms.length === 0) read.failWith('"algorithms": the key source serves no algorithm the verifier supports');
  return algorithms;
}
