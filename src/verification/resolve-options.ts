/**
 * Internal: the one place where `createVerifier`'s options are validated and defaulted. Every bad
 * or contradictory option fails here, at construction, with a message naming the option.
 */
import { isHttpUrl } from '../lib/urls.js';
import type { JwsAlgorithm } from '../keys/algorithms.js';
import { resolveJwksOptions, type ResolvedJwksOptions } from '../keys/options.js';
import { unknownOptionMessage } from '../lib/unknown-options.js';
import { ALGORITHMS, isSymmetric } from './algorithms.js';
import type { ResolvedVerifierOptions, VerifierOptions } from './types.js';

/** Defaults, in one place. */
export const VERIFIER_DEFAULTS = Object.freeze({
  clockTolerance: 5,
  scopeClaim: 'scope',
  maxTokenLength: 8192,
  cacheMaxEntries: 10_000,
  cacheMaxBytes: 32 * 1024 * 1024,
});

/** Which kind of key source the options describe. */
export type KeySourceKind = 'jwks' | 'publicKey' | 'secret' | 'keySource';

function fail(message: string): never {
  throw new TypeError(message);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function stringList(name: string, value: unknown, allowEmpty: boolean): string[] {
  const acceptsString = name === 'audience';
  if (acceptsString && typeof value === 'string' && value !== '') value = [value];
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0) || !value.every(isNonEmptyString)) {
    fail(`"${name}" must be ${acceptsString ? 'a non-empty string or ' : ''}an array of non-empty strings`);
  }
  return [...(value as string[])];
}

function nonNegativeNumber(name: string, value: unknown, fallback: number): number;
function nonNegativeNumber(name: string, value: unknown, fallback: undefined): number | undefined;
function nonNegativeNumber(name: string, value: unknown, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(`"${name}" must be a finite number of seconds, 0 or more`);
  }
  return value;
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) fail(`"${name}" must be a positive integer`);
  return value;
}

/** Every option `createVerifier` takes; the type keeps this list complete. */
const VERIFIER_OPTION_NAMES: Readonly<Record<keyof VerifierOptions, true>> = {
  issuerBaseURL: true, issuer: true, audience: true, jwksUri: true, publicKey: true, secret: true,
  keySource: true, algorithms: true, clockTolerance: true, maxTokenAge: true, strictTokenType: true,
  requiredClaims: true, scopeClaim: true, maxTokenLength: true, verifiedTokenCache: true, jwks: true,
  onEvent: true, now: true,
};

/** Validates everything that does not depend on the key source; returns the resolved options and the key-source kind. */
export function resolveVerifierOptions(options: VerifierOptions): {
  resolved: Omit<ResolvedVerifierOptions, 'algorithms'>;
  keySourceKind: KeySourceKind;
  /** The JWKS tuning with defaults applied, for a remote JWKS. */
  jwks: ResolvedJwksOptions | undefined;
} {
  if (typeof options !== 'object' || options === null) fail('the verifier options must be an object');
  const unknown = unknownOptionMessage(options, VERIFIER_OPTION_NAMES);
  if (unknown !== undefined) fail(unknown);
  const { issuerBaseURL, issuer, jwksUri, publicKey, secret, keySource } = options;

  if (issuerBaseURL !== undefined && !isHttpUrl(issuerBaseURL)) {
    fail('"issuerBaseURL" must be an absolute http(s) URL');
  }
  if (issuer !== undefined && !isNonEmptyString(issuer)) fail('"issuer" must be a non-empty string');
  if (issuer === undefined && issuerBaseURL === undefined) {
    fail('"issuer" or "issuerBaseURL" is required: tokens from any issuer would otherwise be accepted');
  }
  if (options.audience === undefined) {
    fail('"audience" is required (the identifier of this API): tokens minted for other APIs would otherwise be accepted');
  }
  const audience = stringList('audience', options.audience, false);

  if (jwksUri !== undefined && !isHttpUrl(jwksUri)) fail('"jwksUri" must be an absolute http(s) URL');
  const given = (
    [['jwksUri', jwksUri], ['publicKey', publicKey], ['secret', secret], ['keySource', keySource]] as const
  ).filter(([, value]) => value !== undefined).map(([name]) => name);
  if (given.length > 1) fail(`"${given[0]}" and "${given[1]}" cannot be used together: give exactly one source of keys`);
  let keySourceKind: KeySourceKind;
  if (given.length === 1) keySourceKind = given[0] === 'jwksUri' ? 'jwks' : given[0] as KeySourceKind;
  else if (issuerBaseURL !== undefined) keySourceKind = 'jwks';
  else fail('no source of keys: set "issuerBaseURL", "jwksUri", "publicKey", "secret" or "keySource"');
  if (keySource !== undefined && (
    typeof keySource !== 'object' || keySource === null || typeof keySource.getKey !== 'function'
    || typeof keySource.warmUp !== 'function' || typeof keySource.generation !== 'number'
    || !Array.isArray(keySource.algorithms) || !keySource.algorithms.every((alg) => typeof alg === 'string')
  )) {
    fail('"keySource" must implement the KeySource contract (getKey, algorithms, generation, warmUp)');
  }
  if (options.jwks !== undefined) {
    if (typeof options.jwks !== 'object' || options.jwks === null) fail('"jwks" must be an object');
    if (keySourceKind !== 'jwks') fail('"jwks" options apply only to a remote JWKS ("jwksUri" or "issuerBaseURL")');
  }
  // The key source is built from these without validating again (one place for the verifier's options).
  const jwks = keySourceKind === 'jwks' ? resolveJwksOptions(options.jwks) : undefined;
  if (secret !== undefined && typeof secret !== 'string' && !(secret instanceof Uint8Array)) {
    fail('"secret" must be a string or a Uint8Array');
  }
  if (publicKey !== undefined && (typeof publicKey !== 'object' || publicKey === null) && typeof publicKey !== 'string') {
    fail('"publicKey" must be a PEM string, a JWK, a JWK Set or a KeyObject');
  }

  if (options.algorithms !== undefined) {
    const algorithms = stringList('algorithms', options.algorithms, false);
    for (const alg of algorithms) {
      if (alg.toLowerCase() === 'none') fail('"algorithms" must not contain "none": unsigned tokens are never accepted');
      if (!ALGORITHMS.has(alg)) fail(`"algorithms" contains unsupported algorithm ${JSON.stringify(alg)}; supported: ${[...ALGORITHMS.keys()].join(', ')}`);
      if (isSymmetric(alg) && keySourceKind !== 'secret' && keySourceKind !== 'keySource') {
        fail(`"algorithms" contains ${alg}, which needs "secret": HS algorithms are never allowed with public keys`);
      }
      if (!isSymmetric(alg) && keySourceKind === 'secret') fail(`"algorithms" contains ${alg}, which cannot be verified with "secret"`);
    }
  }

  const clockTolerance = nonNegativeNumber('clockTolerance', options.clockTolerance, VERIFIER_DEFAULTS.clockTolerance);
  const maxTokenAge = nonNegativeNumber('maxTokenAge', options.maxTokenAge, undefined);
  if (options.strictTokenType !== undefined && typeof options.strictTokenType !== 'boolean') fail('"strictTokenType" must be a boolean');
  const requiredClaims = options.requiredClaims === undefined ? [] : stringList('requiredClaims', options.requiredClaims, true);
  if (options.scopeClaim !== undefined && !isNonEmptyString(options.scopeClaim)) fail('"scopeClaim" must be a non-empty string');
  const maxTokenLength = positiveInteger('maxTokenLength', options.maxTokenLength, VERIFIER_DEFAULTS.maxTokenLength);

  let verifiedTokenCache: ResolvedVerifierOptions['verifiedTokenCache'];
  const cacheOption = options.verifiedTokenCache as unknown;
  if (cacheOption === false) verifiedTokenCache = false;
  else if (cacheOption === undefined || cacheOption === true) {
    verifiedTokenCache = { maxEntries: VERIFIER_DEFAULTS.cacheMaxEntries, maxBytes: VERIFIER_DEFAULTS.cacheMaxBytes };
  } else if (typeof cacheOption === 'object' && cacheOption !== null) {
    const { maxEntries, maxBytes } = cacheOption as { maxEntries?: unknown; maxBytes?: unknown };
    verifiedTokenCache = {
      maxEntries: positiveInteger('verifiedTokenCache.maxEntries', maxEntries, VERIFIER_DEFAULTS.cacheMaxEntries),
      maxBytes: positiveInteger('verifiedTokenCache.maxBytes', maxBytes, VERIFIER_DEFAULTS.cacheMaxBytes),
    };
  } else fail('"verifiedTokenCache" must be a boolean or an object like { maxEntries: 10000, maxBytes: 33554432 }');

  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') fail('"onEvent" must be a function');
  if (options.now !== undefined && typeof options.now !== 'function') fail('"now" must be a function returning milliseconds');

  return {
    resolved: {
      issuer,
      issuerBaseURL,
      audience,
      clockTolerance,
      maxTokenAge,
      strictTokenType: options.strictTokenType ?? false,
      requiredClaims,
      scopeClaim: options.scopeClaim ?? VERIFIER_DEFAULTS.scopeClaim,
      maxTokenLength,
      verifiedTokenCache,
    },
    keySourceKind,
    jwks,
  };
}

/**
 * The allowlist: the `algorithms` option checked against what the key source can serve, or by
 * default everything the key source serves that the verifier supports.
 */
export function resolveAlgorithms(
  requested: readonly string[] | undefined,
  served: readonly string[],
  keySourceKind: KeySourceKind,
): JwsAlgorithm[] {
  if (requested !== undefined) {
    for (const alg of requested) {
      if (!served.includes(alg)) {
        fail(`"algorithms" contains ${alg}, which the key source cannot verify (it serves ${served.join(', ') || 'nothing'})`);
      }
    }
    // Every name was checked against the table by resolveVerifierOptions.
    return [...new Set(requested)] as JwsAlgorithm[];
  }
  const algorithms = served.filter(
    (alg): alg is JwsAlgorithm => ALGORITHMS.has(alg) && (keySourceKind === 'secret' || keySourceKind === 'keySource' || !isSymmetric(alg)),
  );
  if (algorithms.length === 0) fail('"algorithms": the key source serves no algorithm the verifier supports');
  return algorithms;
}
