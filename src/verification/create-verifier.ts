/**
 * `createVerifier`: the transport-neutral JWT access-token verifier. Checks, in order: size, the
 * verified-token cache, structure, header (`alg` allowlist, `crit`, `typ`), key (by `alg` and
 * `kid` only), signature (through `node:crypto`, synchronously), claims, scopes.
 */
import type { KeyObject } from 'node:crypto';
import type { JWTHeaderParameters, JWTPayload } from 'jose';
import { MetadataDiscovery } from '../discovery/index.js';
import { BearerError, KeySourceUnavailableError } from '../errors/index.js';
import { buildKeySource } from '../keys/create-key-source.js';
import { JWKS_DEFAULTS } from '../keys/options.js';
import type { KeySource } from '../keys/types.js';
import { UpstreamError } from '../lib/http.js';
import { ALGORITHMS, type AlgorithmSpec } from './algorithms.js';
import { checkClaims, type ClaimsPolicy } from './check-claims.js';
import { checkedKeySource } from './checked-key-source.js';
import { decodeBase64url, decodeJsonObject } from './decode-segments.js';
import { invalidToken } from './invalid-token.js';
import { parseScopes } from './parse-scopes.js';
import { resolveAlgorithms, resolveVerifierOptions } from './resolve-options.js';
import type { JwtVerifier, ResolvedVerifierOptions, VerifiedToken, VerifierEvent, VerifierOptions } from './types.js';
import { tokenHash, validityInterval, VerifiedTokenCache } from './verified-token-cache.js';
import { verifySignature } from './verify-signature.js';

/** A protected header that passed every header check, with what the key lookup and signature need. */
interface CheckedHeader {
  readonly header: JWTHeaderParameters;
  readonly spec: AlgorithmSpec;
  readonly kid: string | undefined;
}

/** How many distinct validated headers are remembered (tokens of one issuer share a handful). */
const HEADER_CACHE_SIZE = 64;

const ACCEPTED_TYP = new Set(['application/jwt', 'application/at+jwt']);
const STRICT_TYP = new Set(['application/at+jwt']);

function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.includes('/') ? lower : `application/${lower}`;
}

/**
 * Freezes a parsed JSON object and every object in it; iterative, so no nesting depth can
 * overflow the stack. Only objects are queued: most claims are strings and numbers.
 */
function deepFreeze<T extends object>(root: T): T {
  const pending: object[] = [root];
  while (pending.length > 0) {
    const value = pending.pop() as Record<string, unknown>;
    Object.freeze(value);
    for (const key in value) {
      const child = value[key];
      if (typeof child === 'object' && child !== null && !Object.isFrozen(child)) pending.push(child);
    }
  }
  return root;
}

function isPromiseLike<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}

function malformed(description: string): never {
  throw invalidToken('ERR_JWT_MALFORMED', description);
}

/**
 * Creates a verifier of JWT access tokens (RFC 9068 / Auth0-style) for one issuer and audience.
 * Invalid or contradictory options throw a `TypeError` naming the option.
 *
 * @example
 * ```ts
 * import { createVerifier } from 'express-m2m';
 *
 * const verifier = createVerifier({
 *   issuerBaseURL: 'https://issuer.example.com/',
 *   audience: 'https://api.example.com',
 * });
 * await verifier.warmUp();
 * const { payload, scopes } = await verifier.verify(accessToken);
 * ```
 */
export function createVerifier(options: VerifierOptions): JwtVerifier {
  const { resolved: base, keySourceKind, jwks } = resolveVerifierOptions(options);
  const now = options.now ?? Date.now;
  const onEvent = options.onEvent;
  const emit = (event: VerifierEvent): void => {
    if (onEvent === undefined) return;
    try {
      onEvent(event);
    } catch {
      // An observer's bug must not change the outcome of a verification.
    }
  };

  const needsDiscovery = base.issuerBaseURL !== undefined
    && (base.issuer === undefined || (keySourceKind === 'jwks' && options.jwksUri === undefined));
  // Discovery requests are bounded like JWKS requests: one timeout for everything fetched from the issuer.
  const discovery = needsDiscovery
    ? new MetadataDiscovery(base.issuerBaseURL as string, { now, timeoutDuration: jwks?.timeoutDuration ?? JWKS_DEFAULTS.timeoutDuration })
    : undefined;

  // Discovery remembers a failure for its failure cooldown before asking again: that is when to retry.
  const discoveryRetryAfter = discovery === undefined ? 1 : Math.max(1, Math.ceil(discovery.failureCooldownDuration / 1000));
  /** The failure last reported: discovery hands the same error to every caller until it fetches again. */
  let reportedDiscoveryFailure: unknown;
  const discover = async () => {
    try {
      return await (discovery as MetadataDiscovery).get();
    } catch (error) {
      const cause = error instanceof Error ? error : new Error(String(error));
      if (error !== reportedDiscoveryFailure) {
        reportedDiscoveryFailure = error;
        emit({ type: 'verification.discovery_failed', issuerBaseURL: base.issuerBaseURL as string, error: cause });
      }
      throw new KeySourceUnavailableError('the token issuer\'s metadata is temporarily unavailable', discoveryRetryAfter, { cause });
    }
  };

  // Options were validated above: the key source is built without validating them again.
  const settings = { jwks, emit: onEvent === undefined ? undefined : emit, now };
  let keySource: KeySource;
  switch (keySourceKind) {
    case 'keySource':
      // A custom source is wrapped once with the key/alg fit check; built-in sources guarantee the fit.
      keySource = checkedKeySource(options.keySource as KeySource);
      break;
    case 'secret':
      keySource = buildKeySource({ kind: 'secret', secret: options.secret as string | Uint8Array }, settings);
      break;
    case 'publicKey':
      keySource = buildKeySource({ kind: 'publicKey', publicKey: options.publicKey as NonNullable<VerifierOptions['publicKey']> }, settings);
      break;
    case 'jwks':
      keySource = buildKeySource({
        kind: 'jwks',
        jwksUri: options.jwksUri ?? (async () => {
          const metadata = await discover();
          if (metadata.jwks_uri === undefined) {
            throw new UpstreamError(`the metadata of ${base.issuerBaseURL} has no "jwks_uri"`);
          }
          return metadata.jwks_uri;
        }),
      }, settings);
      break;
  }

  const algorithms = resolveAlgorithms(options.algorithms, keySource.algorithms, keySourceKind);
  const resolved: ResolvedVerifierOptions = Object.freeze({
    ...base,
    audience: Object.freeze(base.audience),
    requiredClaims: Object.freeze(base.requiredClaims),
    verifiedTokenCache: base.verifiedTokenCache && Object.freeze(base.verifiedTokenCache),
    algorithms: Object.freeze(algorithms),
  });
  const allowed = new Map<string, AlgorithmSpec>(algorithms.map((alg) => [alg, ALGORITHMS.get(alg) as AlgorithmSpec]));
  const acceptedTyp = resolved.strictTokenType ? STRICT_TYP : ACCEPTED_TYP;
  const typOptional = !resolved.strictTokenType;
  const maxTokenLength = resolved.maxTokenLength;
  const scopeClaim = resolved.scopeClaim;
  const policy: ClaimsPolicy = {
    audience: new Set(resolved.audience),
    clockTolerance: resolved.clockTolerance,
    maxTokenAge: resolved.maxTokenAge,
    requiredClaims: resolved.requiredClaims.filter((claim) => claim !== 'exp'),
  };
  let expectedIssuer = resolved.issuer;
  const cache = resolved.verifiedTokenCache === false
    ? undefined
    : new VerifiedTokenCache(resolved.verifiedTokenCache.maxEntries, resolved.verifiedTokenCache.maxBytes, (entries) => {
      emit({ type: 'verification.cache_flushed', reason: 'keys_changed', entries });
    });
  /**
   * Built-in key sources answer from the key set current when the key is handed over, so a
   * verification belongs to the generation read then (the first token after a key-set change is
   * cached). A custom source promises nothing: its generation must not change during the lookup.
   */
  const generationAtKey = options.keySource === undefined;
  const headers = new Map<string, CheckedHeader>();

  function checkHeader(segment: string): CheckedHeader {
    const known = headers.get(segment);
    if (known !== undefined) return known;
    const header = decodeJsonObject(segment);
    if (header === undefined) malformed('the token header is not a base64url-encoded JSON object');
    const { alg, kid, typ } = header;
    if (typeof alg !== 'string' || alg === '') malformed('the token header has no "alg"');
    const spec = allowed.get(alg);
    if (spec === undefined) throw invalidToken('ERR_JWT_ALG_NOT_ALLOWED', 'the token "alg" is not allowed');
    if (header.crit !== undefined) throw invalidToken('ERR_JWT_CRIT', 'the token has a "crit" header parameter that is not understood');
    if (typ === undefined ? !typOptional : typeof typ !== 'string' || !acceptedTyp.has(normalizeTyp(typ))) {
      throw invalidToken('ERR_JWT_TYP', resolved.strictTokenType
        ? 'the token "typ" header must be "at+jwt"'
        : 'the token "typ" header must be "at+jwt" or "JWT"');
    }
    if (kid !== undefined && typeof kid !== 'string') malformed('the token "kid" header must be a string');
    const checked: CheckedHeader = Object.freeze({ header: deepFreeze(header) as JWTHeaderParameters, spec, kid });
    if (headers.size >= HEADER_CACHE_SIZE) headers.clear();
    headers.set(segment, checked);
    return checked;
  }

  /** Signature, claims and scopes at `nowMs`; `hash` is the cache key (undefined without a cache). */
  function finish(
    token: string,
    firstDot: number,
    secondDot: number,
    checked: CheckedHeader,
    key: KeyObject,
    issuer: string,
    hash: string | undefined,
    generation: number,
    nowMs: number,
  ): VerifiedToken {
    const signature = decodeBase64url(token.slice(secondDot + 1));
    if (
      signature === undefined
      || !verifySignature(checked.spec, Buffer.from(token.slice(0, secondDot), 'latin1'), signature, key)
    ) {
      throw invalidToken('ERR_JWT_SIGNATURE_INVALID', 'the token signature is invalid');
    }
    const payload = decodeJsonObject(token.slice(firstDot + 1, secondDot)) as JWTPayload | undefined;
    if (payload === undefined) malformed('the token payload is not a base64url-encoded JSON object');
    const window = checkClaims(payload, policy, issuer, Math.floor(nowMs / 1000));
    const scopes = Object.freeze(parseScopes(payload[scopeClaim], scopeClaim));
    const value: VerifiedToken = Object.freeze({ token, header: checked.header, payload: deepFreeze(payload), scopes });
    if (cache !== undefined && hash !== undefined && (generationAtKey || keySource.generation === generation)) {
      // Capped at the keys' freshness: a cached token goes back through getKey when they may have changed.
      cache.set(hash, value, validityInterval(window, keySource.freshUntil ?? Number.POSITIVE_INFINITY), nowMs, generation);
    }
    return value;
  }

  async function finishLater(
    token: string,
    firstDot: number,
    secondDot: number,
    checked: CheckedHeader,
    key: KeyObject | Promise<KeyObject>,
    hash: string | undefined,
    generation: number,
  ): Promise<VerifiedToken> {
    let keyGeneration = generation;
    // Both awaited together: a key lookup that fails while discovery is pending is never left unhandled.
    const [issuer, resolvedKey] = await Promise.all([
      expectedIssuer ?? discover().then((metadata) => (expectedIssuer = metadata.issuer)),
      isPromiseLike(key) && generationAtKey
        ? key.then((value) => {
          keyGeneration = keySource.generation;
          return value;
        })
        : key,
    ]);
    // The claims are checked at the time the answer is given (a fetch may have taken a while).
    return finish(token, firstDot, secondDot, checked, resolvedKey, issuer, hash, keyGeneration, now());
  }

  function verifyToken(token: string): VerifiedToken | Promise<VerifiedToken> {
    if (typeof token !== 'string' || token === '') malformed('the token is empty');
    if (token.length > maxTokenLength) throw invalidToken('ERR_TOKEN_TOO_LARGE', `the token is longer than ${maxTokenLength} characters`);
    const nowMs = now();
    let hash: string | undefined;
    if (cache !== undefined) {
      hash = tokenHash(token);
      const hit = cache.get(hash, nowMs, keySource.generation);
      if (hit !== undefined) return hit;
    }
    const firstDot = token.indexOf('.');
    const secondDot = firstDot === -1 ? -1 : token.indexOf('.', firstDot + 1);
    if (secondDot === -1 || token.indexOf('.', secondDot + 1) !== -1) malformed('the token is not a JWS in compact serialization');
    const checked = checkHeader(token.slice(0, firstDot));
    const before = keySource.generation;
    const key = keySource.getKey({ alg: checked.spec.alg, kid: checked.kid }, nowMs);
    const generation = generationAtKey ? keySource.generation : before;
    if (expectedIssuer === undefined || isPromiseLike(key)) {
      return finishLater(token, firstDot, secondDot, checked, key, hash, generation);
    }
    return finish(token, firstDot, secondDot, checked, key, expectedIssuer, hash, generation, nowMs);
  }

  const reportRejection = (error: unknown): never => {
    if (error instanceof BearerError && error.status === 401) {
      emit({ type: 'verification.rejected', code: error.code, reason: error.message });
    }
    throw error;
  };

  const verify = onEvent === undefined
    ? verifyToken
    : (token: string): VerifiedToken | Promise<VerifiedToken> => {
      try {
        const result = verifyToken(token);
        return isPromiseLike(result) ? result.catch(reportRejection) : result;
      } catch (error) {
        return reportRejection(error);
      }
    };

  return {
    verify: verify as JwtVerifier['verify'],
    async warmUp() {
      if (discovery !== undefined) {
        const metadata = await discover();
        expectedIssuer ??= metadata.issuer;
      }
      await keySource.warmUp();
    },
    close() {
      cache?.clear();
      headers.clear();
      keySource.close?.();
    },
    options: resolved,
  };
}
