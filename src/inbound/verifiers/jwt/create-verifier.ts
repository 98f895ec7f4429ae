/**
 * `createVerifier`: the transport-neutral JWT access-token verifier (a `TokenVerifier`). Checks,
 * in order: size, the verified-token cache, structure, header (`alg` allowlist, `crit`, `typ`),
 * key (by `alg` and `kid` only), signature (through `node:crypto`, synchronously), claims, scopes.
 */
import type { KeyObject } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { BearerError } from '../../../errors/bearer-errors.js';
import { buildKeySource } from '../../../keys/create-key-source.js';
import { JWKS_DEFAULTS } from '../../../keys/options.js';
import type { KeySource } from '../../../keys/types.js';
import { isPromiseLike } from '../../../lib/is-promise-like.js';
import { OptionReader, type OptionReaderContext } from '../../../options/option-reader.js';
import type { VerifiedToken } from '../../verified-token.js';
import { refuseConfirmed } from '../../bindings/refuse-confirmation.js';
import { ALGORITHMS, type AlgorithmSpec } from './algorithms.js';
import type { CompiledClaimRules } from '../claim-rules.js';
import { checkClaims, type ClaimsPolicy, type ValidityWindow } from './check-claims.js';
import { HeaderChecker, type CheckedHeader } from './check-header.js';
import { checkedKeySource } from './checked-key-source.js';
import { decodeBase64url, decodeJsonObject } from './decode-segments.js';
import { deepFreeze } from './deep-freeze.js';
import { invalidToken, malformed } from './invalid-token.js';
import { IssuerDiscovery } from './issuer-discovery.js';
import { parseScopes } from './parse-scopes.js';
import {
  resolveAlgorithms, resolveVerifierOptions, VERIFIER_OPTION_NAMES, type RequiredOptionVariables, type VerifierKeys, type VerifierPlan,
} from './resolve-options.js';
import type { AudienceRuleVerifierOptions, JwtVerifier, ResolvedVerifierOptions, VerifierEvent, VerifierOptions } from './types.js';
import { tokenHash, validityInterval, VerifiedTokenCache } from './verified-token-cache.js';
import { verifySignature } from './verify-signature.js';
import { healthOf, reportsHealth, sameHealth } from '../../../lib/health-registry.js';
import type { IssuerHealth, KeysHealth } from '../../../observability/health.js';

/** Options of requireAuth that users sometimes give createVerifier: named in the message. */
const REQUIRE_AUTH_ONLY = Object.freeze({
  allowQueryToken: 'an option of requireAuth, not of createVerifier',
  allowBodyToken: 'an option of requireAuth, not of createVerifier',
  realm: 'an option of requireAuth, not of createVerifier',
});

/**
 * Creates a verifier of JWT access tokens (RFC 9068 / Auth0-style) for one issuer and audience.
 * Invalid or contradictory options throw a `TypeError` naming the option. It checks bearer
 * tokens: a sender-constrained token (with a `cnf` claim) is refused (401
 * `ERR_TOKEN_SENDER_CONSTRAINED`).
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
export function createVerifier(options: VerifierOptions | AudienceRuleVerifierOptions): JwtVerifier {
  const context: OptionReaderContext = { caller: 'createVerifier', elsewhere: REQUIRE_AUTH_ONLY };
  const read = new OptionReader<VerifierOptions>(options, VERIFIER_OPTION_NAMES, context);
  const verifier = buildJwtVerifier(read);
  // Used on its own, a verifier is a bearer check: a sender-constrained token is never accepted
  // as a bearer token (requireAuth and createAuthenticator run their binding checks themselves).
  const verify = (token: string): VerifiedToken | Promise<VerifiedToken> => {
    const result = verifier.verify(token);
    if (!isPromiseLike(result)) {
      refuseConfirmed(result);
      return result;
    }
    return (result as Promise<VerifiedToken>).then((verified) => {
      refuseConfirmed(verified);
      return verified;
    });
  };
  const standalone: JwtVerifier = { ...verifier, verify: verify as JwtVerifier['verify'] };
  sameHealth(standalone, verifier);
  return standalone;
}

/** The keys' health: the remote key set's own view; static keys and secrets are always fresh; a custom source cannot tell. */
function keysHealth(keySource: KeySource, kind: VerifierKeys['kind'], now: number): KeysHealth {
  return healthOf<KeysHealth>(keySource, now) ?? (kind === 'keySource' ? { source: 'custom', state: 'unknown' } : { source: 'static', state: 'fresh' });
}

/**
 * Internal: the verifier from options read by `read` (createVerifier's own reader, or
 * requireAuth's, whose messages name requireAuth and the environment variables).
 */
export function buildJwtVerifier(read: OptionReader<VerifierOptions>, variables?: RequiredOptionVariables): JwtVerifier {
  return buildJwtParts(read, resolveVerifierOptions(read, variables)).verifier;
}

/** The event hook of a plan: the user's `onEvent`, whose exceptions never change an outcome. */
export function planEmitter(plan: VerifierPlan): (event: VerifierEvent) => void {
  const listener = plan.onEvent;
  return (event) => {
    if (listener === undefined) return;
    try {
      listener(event);
    } catch {
      // An observer's bug must not change the outcome of a verification.
    }
  };
}

/** Internal: whether the plan's JWT verification needs discovery (the expected `iss`, or the `jwks_uri`). */
export function needsDiscovery(plan: VerifierPlan): boolean {
  const base = plan.resolved;
  return base.issuerBaseURL !== undefined && (base.issuer === undefined || (plan.keys?.kind === 'jwks' && plan.keys.jwksUri === undefined));
}

/** Internal: the discovery of the plan's `issuerBaseURL` (bounded like JWKS requests: one timeout for everything fetched from the issuer). */
export function planDiscovery(plan: VerifierPlan, emit: (event: VerifierEvent) => void): IssuerDiscovery {
  const { now } = plan;
  return new IssuerDiscovery(plan.resolved.issuerBaseURL as string, {
    ...plan.discovery, now, fetch: plan.fetch, timeoutDuration: (plan.jwks ?? JWKS_DEFAULTS).timeoutDuration,
  }, emit);
}

/** What a JWT verifier is built of, for a verifier that shares its keys and discovery (introspection). */
export interface JwtParts {
  verifier: JwtVerifier;
  keySource: KeySource;
}

/**
 * Internal: the JWT verifier of a plan whose `keys` are given, with its key source; `discovery`
 * when the caller shares one (else one is made when the plan needs it).
 */
export function buildJwtParts(
  read: OptionReader<VerifierOptions>,
  plan: VerifierPlan,
  discovery: IssuerDiscovery | undefined = undefined,
): JwtParts {
  const { now, keys } = plan;
  if (keys === undefined) throw new Error('internal: a JWT verifier needs keys');
  const listener = plan.onEvent;
  const emit = planEmitter(plan);
  const base = plan.resolved;
  const found = discovery ?? (needsDiscovery(plan) ? planDiscovery(plan, emit) : undefined);
  const keySource = verifierKeySource(read.caller, { ...plan, keys }, found, listener === undefined ? undefined : emit);
  const algorithms = resolveAlgorithms(read, plan.algorithms, keySource.algorithms, keys.kind);
  const resolved: ResolvedVerifierOptions = Object.freeze({
    ...base,
    audience: Object.freeze(base.audience),
    requiredClaims: Object.freeze(base.requiredClaims),
    verifiedTokenCache: base.verifiedTokenCache && Object.freeze(base.verifiedTokenCache),
    algorithms: Object.freeze(algorithms),
  });
  const verifier = new JwtTokenVerifier(resolved, keySource, found, keys.kind !== 'keySource', now, emit, plan.claims);
  const built: JwtVerifier = {
    verify: (listener === undefined ? verifier.verifyToken : verifier.verifyReporting) as JwtVerifier['verify'],
    warmUp: () => verifier.warmUp(),
    close: () => verifier.close(),
    options: resolved,
  };
  const identity = base.issuer ?? base.issuerBaseURL ?? '(unknown)';
  reportsHealth(built, (at): IssuerHealth => ({ issuer: identity, keys: keysHealth(keySource, keys.kind, at) }));
  return { verifier: built, keySource };
}

/** The key source of the plan: built from validated options without validating again, or the user's, wrapped with the fit check. */
function verifierKeySource(
  caller: string,
  plan: VerifierPlan & { keys: VerifierKeys },
  discovery: IssuerDiscovery | undefined,
  emit: ((event: VerifierEvent) => void) | undefined,
): KeySource {
  const { keys } = plan;
  const settings = { jwks: plan.jwks, emit, now: plan.now, fetch: plan.fetch };
  switch (keys.kind) {
    case 'keySource':
      // A custom source is wrapped once with the key/alg fit check; built-in sources guarantee the fit.
      return checkedKeySource(keys.keySource);
    case 'jwks':
      return buildKeySource(caller, { kind: 'jwks', jwksUri: keys.jwksUri ?? (() => (discovery as IssuerDiscovery).jwksUri()) }, settings);
    default:
      return buildKeySource(caller, keys, settings);
  }
}

/** The verification of one configured issuer and audience. */
class JwtTokenVerifier {
  private readonly headers: HeaderChecker;
  private readonly policy: ClaimsPolicy;
  private readonly claims: CompiledClaimRules | undefined;
  private readonly cache: VerifiedTokenCache | undefined;
  private readonly maxTokenLength: number;
  private readonly scopeClaim: string;
  private expectedIssuer: string | undefined;

  constructor(
    resolved: ResolvedVerifierOptions,
    private readonly keySource: KeySource,
    private readonly discovery: IssuerDiscovery | undefined,
    /**
     * Built-in key sources answer from the key set current when the key is handed over, so a
     * verification belongs to the generation read then (the first token after a key-set change is
     * cached). A custom source promises nothing: its generation must not change during the lookup.
     */
    private readonly generationAtKey: boolean,
    private readonly now: () => number,
    private readonly emit: (event: VerifierEvent) => void,
    claims: CompiledClaimRules | undefined,
  ) {
    this.claims = claims;
    const allowed = new Map<string, AlgorithmSpec>(resolved.algorithms.map((alg) => [alg, ALGORITHMS.get(alg) as AlgorithmSpec]));
    this.headers = new HeaderChecker(allowed, resolved.strictTokenType);
    this.policy = {
      audience: claims?.replaces.aud === true ? undefined : new Set(resolved.audience),
      exactIssuer: claims?.replaces.iss !== true,
      clockTolerance: resolved.clockTolerance,
      maxTokenAge: resolved.maxTokenAge,
      requiredClaims: resolved.requiredClaims.filter((claim) => claim !== 'exp'),
    };
    this.maxTokenLength = resolved.maxTokenLength;
    this.scopeClaim = resolved.scopeClaim;
    this.expectedIssuer = resolved.issuer;
    this.cache = resolved.verifiedTokenCache === false
      ? undefined
      : new VerifiedTokenCache(resolved.verifiedTokenCache.maxEntries, resolved.verifiedTokenCache.maxBytes, (entries) => {
        emit({ type: 'verification.cache_flushed', reason: 'keys_changed', entries });
      });
  }

  /** The hot path: a cached token or key answers synchronously, without a promise. */
  readonly verifyToken = (token: string): VerifiedToken | Promise<VerifiedToken> => {
    if (typeof token !== 'string' || token === '') malformed('the token is empty');
    if (token.length > this.maxTokenLength) throw invalidToken('ERR_TOKEN_TOO_LARGE', `the token is longer than ${this.maxTokenLength} characters`);
    const nowMs = this.now();
    const { cache, keySource } = this;
    let hash: string | undefined;
    if (cache !== undefined) {
      hash = tokenHash(token);
      const hit = cache.get(hash, nowMs, keySource.generation);
      if (hit !== undefined) return hit;
    }
    return this.verifyUncached(token, hash, nowMs);
  };

  /** {@link verifyToken} past the verified-token cache (`hash`: the token's key in it, when there is one). */
  private verifyUncached(token: string, hash: string | undefined, nowMs: number): VerifiedToken | Promise<VerifiedToken> {
    const { keySource } = this;
    const firstDot = token.indexOf('.');
    const secondDot = firstDot === -1 ? -1 : token.indexOf('.', firstDot + 1);
    if (secondDot === -1 || token.indexOf('.', secondDot + 1) !== -1) malformed('the token is not a JWS in compact serialization');
    const checked = this.headers.check(token.slice(0, firstDot));
    const before = keySource.generation;
    const key = keySource.getKey({ alg: checked.spec.alg, kid: checked.kid }, nowMs);
    const generation = this.generationAtKey ? keySource.generation : before;
    if (this.expectedIssuer === undefined || isPromiseLike(key)) {
      return this.finishLater(token, firstDot, secondDot, checked, key, hash, generation);
    }
    return this.finish(token, firstDot, secondDot, checked, key, this.expectedIssuer, hash, generation, nowMs);
  }

  /**
   * {@link verifyToken}, reporting each outcome: `verification.succeeded` (with whether the
   * verified-token cache answered) or, for each 401, `verification.rejected`. Used only when
   * someone listens, so that the hot path without `onEvent` does nothing more.
   */
  readonly verifyReporting = (token: string): VerifiedToken | Promise<VerifiedToken> => {
    try {
      if (typeof token !== 'string' || token === '') malformed('the token is empty');
      if (token.length > this.maxTokenLength) throw invalidToken('ERR_TOKEN_TOO_LARGE', `the token is longer than ${this.maxTokenLength} characters`);
      const nowMs = this.now();
      const { cache } = this;
      let hash: string | undefined;
      if (cache !== undefined) {
        hash = tokenHash(token);
        const hit = cache.get(hash, nowMs, this.keySource.generation);
        if (hit !== undefined) {
          this.emit({ type: 'verification.succeeded', verifier: 'jwt', cached: true });
          return hit;
        }
      }
      const result = this.verifyUncached(token, hash, nowMs);
      if (!isPromiseLike(result)) return this.reportSuccess(result);
      return (result as Promise<VerifiedToken>).then(this.reportSuccess, this.reportRejection);
    } catch (error) {
      return this.reportRejection(error);
    }
  };

  private readonly reportSuccess = (verified: VerifiedToken): VerifiedToken => {
    this.emit({ type: 'verification.succeeded', verifier: 'jwt', cached: false });
    return verified;
  };

  async warmUp(): Promise<void> {
    if (this.discovery !== undefined) {
      const metadata = await this.discovery.metadataForWarmUp();
      this.expectedIssuer ??= metadata.issuer;
    }
    await this.keySource.warmUp();
  }

  close(): void {
    this.cache?.clear();
    this.headers.clear();
    this.keySource.close?.();
  }

  private readonly reportRejection = (error: unknown): never => {
    if (error instanceof BearerError && error.status === 401) {
      this.emit({ type: 'verification.rejected', code: error.code, reason: error.message });
    }
    throw error;
  };

  /** Signature, claims and scopes at `nowMs`; `hash` is the cache key (undefined without a cache). */
  private finish(
    token: string,
    firstDot: number,
    secondDot: number,
    checked: CheckedHeader,
    key: KeyObject,
    issuer: string,
    hash: string | undefined,
    generation: number,
    nowMs: number,
  ): VerifiedToken | Promise<VerifiedToken> {
    const signature = decodeBase64url(token.slice(secondDot + 1));
    if (
      signature === undefined
      || !verifySignature(checked.spec, Buffer.from(token.slice(0, secondDot), 'latin1'), signature, key)
    ) {
      throw invalidToken('ERR_JWT_SIGNATURE_INVALID', 'the token signature is invalid');
    }
    const payload = decodeJsonObject(token.slice(firstDot + 1, secondDot)) as JWTPayload | undefined;
    if (payload === undefined) malformed('the token payload is not a base64url-encoded JSON object');
    const window = checkClaims(payload, this.policy, issuer, Math.floor(nowMs / 1000));
    const scopes = Object.freeze(parseScopes(payload[this.scopeClaim], this.scopeClaim));
    const value: VerifiedToken = Object.freeze({ token, header: checked.header, payload: deepFreeze(payload), scopes });
    const ruled = this.claims?.check(value.payload);
    // A token is cached only once every rule has accepted it.
    if (ruled !== undefined) return ruled.then(() => this.remember(value, window, hash, generation, nowMs));
    return this.remember(value, window, hash, generation, nowMs);
  }

  /** Caches `value` (when the keys that verified it are still those of `generation`) and returns it. */
  private remember(value: VerifiedToken, window: ValidityWindow, hash: string | undefined, generation: number, nowMs: number): VerifiedToken {
    const { cache, keySource } = this;
    if (cache !== undefined && hash !== undefined && (this.generationAtKey || keySource.generation === generation)) {
      // Capped at the keys' freshness: a cached token goes back through getKey when they may have changed.
      cache.set(hash, value, validityInterval(window, keySource.freshUntil ?? Number.POSITIVE_INFINITY), nowMs, generation);
    }
    return value;
  }

  private async finishLater(
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
      this.expectedIssuer ?? (this.discovery as IssuerDiscovery).metadata().then((metadata) => (this.expectedIssuer = metadata.issuer)),
      isPromiseLike(key) && this.generationAtKey
        ? (key as Promise<KeyObject>).then((value) => {
          keyGeneration = this.keySource.generation;
          return value;
        })
        : key,
    ]);
    // The claims are checked at the time the answer is given (a fetch may have taken a while).
    return this.finish(token, firstDot, secondDot, checked, resolvedKey, issuer, hash, keyGeneration, this.now());
  }
}
