/**
 * Internal: the introspection verifier (a `TokenVerifier`): asks the issuer's RFC 7662 endpoint
 * whether a token is active, and checks the answer's claims as a JWT's. In order: size, the
 * cache (by the token's SHA-256), single flight (concurrent requests with one token make one
 * call), the failure cooldown, the bound on calls in flight, the request, the signed answer
 * (RFC 9701) when configured, `active`, the claims, the claim rules. A failed call is a 503
 * with `Retry-After`, never a 401 and never a 500.
 */
import type { JWTPayload } from 'jose';
import { BearerError, InvalidTokenError, KeySourceUnavailableError } from '../../../errors/bearer-errors.js';
import { withoutStack } from '../../../errors/without-stack.js';
import type { KeySource } from '../../../keys/types.js';
import { doublingCooldown } from '../../../lib/refreshable.js';
import { UpstreamError } from '../../../transport/fetch-json.js';
import type { FetchLike } from '../../../transport/fetch-like.js';
import type { VerifiedToken } from '../../verified-token.js';
import type { CompiledClaimRules } from '../claim-rules.js';
import type { TokenVerifier } from '../token-verifier.js';
import type { AlgorithmSpec } from '../jwt/algorithms.js';
import { checkClaims, type ClaimsPolicy } from '../jwt/check-claims.js';
import { deepFreeze } from '../jwt/deep-freeze.js';
import { invalidToken, malformed } from '../jwt/invalid-token.js';
import { parseScopes } from '../jwt/parse-scopes.js';
import type { VerifierEvent } from '../jwt/types.js';
import { tokenHash, validityInterval } from '../jwt/verified-token-cache.js';
import { CallLimiter } from './call-limiter.js';
import { IntrospectionCache, type AcceptedAnswer, type CachedAnswer } from './introspection-cache.js';
import { BusyEndpointError, requestIntrospection } from './introspection-request.js';
import type { ResolvedIntrospection } from './resolve-introspection-options.js';
import { verifyResponseJwt } from './response-jwt.js';
import { reportsHealth } from '../../../lib/health-registry.js';
import { secondsUntil, type IntrospectionHealth } from '../../../observability/health.js';

/** An opaque token has no header: the `header` of its `VerifiedToken` is this empty object. */
const NO_HEADER = Object.freeze({}) as VerifiedToken['header'];

/** Longest `Retry-After` of the endpoint that is followed (a longer one is capped). */
const MAX_RETRY_AFTER_MS = 300_000;

/** Rejections that depend on the time they are checked at: never cached (they may pass later). */
const TIME_DEPENDENT = new Set(['ERR_JWT_NOT_YET_VALID', 'ERR_JWT_IAT_FUTURE']);

/** Everything the verifier is built from. */
export interface IntrospectionVerifierSettings {
  options: ResolvedIntrospection;
  /** The endpoint (configured, or discovered: rejects with a 503 when discovery fails). */
  endpoint: () => string | Promise<string>;
  /** The expected `iss` (configured, or discovered). */
  issuer: () => string | Promise<string>;
  policy: ClaimsPolicy;
  claims: CompiledClaimRules | undefined;
  scopeClaim: string;
  maxTokenLength: number;
  /** With `jwtResponse`: the issuer's keys, and the `alg` allowlist. */
  keys: { keySource: KeySource; algorithms: ReadonlyMap<string, AlgorithmSpec> } | undefined;
  /** Runs discovery (and fetches the keys) now. */
  warmUp: () => Promise<void>;
  /** Closes the key source, when the verifier owns it. */
  closeKeys: () => void;
  emit: (event: VerifierEvent) => void;
  /** Someone listens to `emit`: successes are reported too (otherwise nothing more is done per request). */
  reporting: boolean;
  now: () => number;
  fetch: FetchLike;
}

function inactive(): InvalidTokenError {
  return withoutStack(() => new InvalidTokenError('the token is not active', 'ERR_TOKEN_INACTIVE'));
}

function unavailable(description: string, retryAfter: number, cause: unknown): KeySourceUnavailableError {
  return withoutStack(() => new KeySourceUnavailableError(description, retryAfter, { cause }));
}

/** The introspection verifier of `settings`. */
export function introspectionVerifier(settings: IntrospectionVerifierSettings): TokenVerifier {
  const verifier = new IntrospectionTokenVerifier(settings);
  const built: TokenVerifier = {
    verify: verifier.verify as TokenVerifier['verify'],
    warmUp: () => settings.warmUp(),
    close: () => verifier.close(),
  };
  reportsHealth(built, (now) => verifier.health(now));
  return built;
}

class IntrospectionTokenVerifier {
  private readonly cache: IntrospectionCache;
  private readonly pending = new Map<string, Promise<CachedAnswer>>();
  private readonly limiter: CallLimiter;
  private readonly cooldown: (count: number) => number;
  /** Consecutive failed calls, and until when (epoch ms) no call starts. */
  private failures = 0;
  private retryAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly settings: IntrospectionVerifierSettings) {
    const { options } = settings;
    this.cache = new IntrospectionCache(options.cache.maxEntries);
    this.limiter = new CallLimiter(options.maxConcurrent, options.maxQueued, options.timeoutDuration, (reason) => unavailable(
      "the token issuer's introspection endpoint is busy", 1, new Error(reason),
    ));
    const cap = options.failureCooldownDuration;
    this.cooldown = doublingCooldown(Math.min(1000, cap), cap);
  }

  readonly verify = (token: string): VerifiedToken | Promise<VerifiedToken> => {
    try {
      const result = this.verifyToken(token);
      // A synchronous answer is the cache's; a promise is a call's (made, or joined).
      if (!this.settings.reporting) return result instanceof Promise ? result.catch(this.reportRejection) : result;
      if (!(result instanceof Promise)) return this.reportSuccess(result, true);
      return result.then((verified) => this.reportSuccess(verified, false), this.reportRejection);
    } catch (error) {
      return this.reportRejection(error);
    }
  };

  /** Failed calls in a row and the cooldown: the state the verifier keeps for its cooldown. */
  health(now: number): IntrospectionHealth {
    const retryInSeconds = secondsUntil(this.retryAt, now);
    return { consecutiveFailures: this.failures, ...(retryInSeconds === undefined ? {} : { retryInSeconds }) };
  }

  close(): void {
    this.cache.clear();
    this.limiter.clear();
    this.settings.closeKeys();
  }

  private verifyToken(token: string): VerifiedToken | Promise<VerifiedToken> {
    if (typeof token !== 'string' || token === '') malformed('the token is empty');
    const { maxTokenLength } = this.settings;
    if (token.length > maxTokenLength) throw invalidToken('ERR_TOKEN_TOO_LARGE', `the token is longer than ${maxTokenLength} characters`);
    const hash = tokenHash(token);
    const hit = this.cache.get(hash, this.settings.now());
    if (hit !== undefined) return this.answer(token, hit);
    let flight = this.pending.get(hash);
    if (flight === undefined) {
      flight = this.introspect(token, hash).finally(() => this.pending.delete(hash));
      this.pending.set(hash, flight);
    }
    return flight.then((answer) => this.answer(token, answer));
  }

  /** The verified token of an accepted answer, or the refusal. */
  private answer(token: string, answer: CachedAnswer): VerifiedToken {
    if (answer.kind === 'refused') throw answer.error;
    return Object.freeze({ token, header: answer.header, payload: answer.payload, scopes: answer.scopes });
  }

  private reportSuccess(verified: VerifiedToken, cached: boolean): VerifiedToken {
    this.settings.emit({ type: 'verification.succeeded', verifier: 'introspection', cached });
    return verified;
  }

  private readonly reportRejection = (error: unknown): never => {
    if (error instanceof BearerError && error.status === 401) {
      this.settings.emit({ type: 'verification.rejected', code: error.code, reason: error.message });
    }
    throw error;
  };

  /** One call for `token` (joined by every concurrent request with it), judged and cached. */
  private async introspect(token: string, hash: string): Promise<CachedAnswer> {
    const { settings } = this;
    const { options } = settings;
    const startedAt = settings.now();
    if (startedAt < this.retryAt) {
      throw unavailable("the token issuer's introspection endpoint is temporarily unavailable", Math.max(1, Math.ceil((this.retryAt - startedAt) / 1000)), undefined);
    }
    let endpoint: string | undefined;
    let issuer: string;
    let body: Record<string, unknown>;
    try {
      [endpoint, issuer] = await Promise.all([settings.endpoint(), settings.issuer()]);
      const where = endpoint;
      body = await this.limiter.run(async () => {
        const answer = await requestIntrospection({
          endpoint: where,
          token,
          authenticate: options.authenticate,
          jwtResponse: options.jwtResponse,
          timeoutDuration: options.timeoutDuration,
          fetch: settings.fetch,
          now: settings.now,
        });
        if (answer.kind === 'json') return answer.body;
        const { keys } = settings;
        if (keys === undefined) throw new Error('internal: a signed answer needs keys');
        return verifyResponseJwt(answer.jwt, {
          endpoint: where, keySource: keys.keySource, algorithms: keys.algorithms, issuer, clientId: options.clientId,
          clockTolerance: settings.policy.clockTolerance,
        }, settings.now());
      });
      if (typeof body.active !== 'boolean') throw new UpstreamError(`${where} answered without a boolean "active" (RFC 7662 section 2.2)`);
    } catch (error) {
      throw this.failed(error, endpoint);
    }
    this.failures = 0;
    this.settings.emit({ type: 'introspection.completed', endpoint: endpoint as string, active: body.active === true });
    return this.judge(body, issuer, hash);
  }

  /** The 503 of a failed call; an upstream failure starts (or lengthens) the cooldown and is reported. */
  private failed(error: unknown, endpoint: string | undefined): BearerError {
    // Discovery or the keys (their own 503 and cooldown), or the bound on calls: passed on as they are.
    if (error instanceof BearerError) return error;
    this.failures += 1;
    const now = this.settings.now();
    // A busy server's own Retry-After (429, 503) is followed, up to 5 minutes.
    const asked = error instanceof BusyEndpointError ? Math.min(error.retryAfterMs, MAX_RETRY_AFTER_MS) : 0;
    this.retryAt = now + Math.max(this.cooldown(this.failures), asked);
    const shown = endpoint ?? 'the introspection endpoint';
    const detailed = error instanceof UpstreamError ? error : new UpstreamError(`introspection at ${shown} failed: ${error instanceof Error ? error.message : String(error)}`, undefined, error);
    this.settings.emit({ type: 'introspection.failed', endpoint: shown, error: detailed });
    return unavailable("the token issuer's introspection endpoint is temporarily unavailable", Math.max(1, Math.ceil((this.retryAt - now) / 1000)), detailed);
  }

  /** `active` and the claims of an answer, cached; resolves to the answer (a refusal is an answer too). */
  private async judge(body: Record<string, unknown>, issuer: string, hash: string): Promise<CachedAnswer> {
    const { settings } = this;
    const nowMs = settings.now();
    const refuse = (error: InvalidTokenError): CachedAnswer => {
      const answer: CachedAnswer = { kind: 'refused', error, validFrom: Number.NEGATIVE_INFINITY, validUntil: nowMs + settings.options.cache.inactiveMaxAge };
      if (!TIME_DEPENDENT.has(error.code)) this.cache.set(hash, answer, nowMs);
      return answer;
    };
    if (body.active !== true) return refuse(inactive());
    let answer: AcceptedAnswer;
    try {
      const window = checkClaims(body as JWTPayload, settings.policy, issuer, Math.floor(nowMs / 1000));
      const scopes = Object.freeze(parseScopes(body[settings.scopeClaim], settings.scopeClaim));
      const payload = deepFreeze({ ...body }) as VerifiedToken['payload'];
      await settings.claims?.check(payload);
      const interval = validityInterval(window, nowMs + settings.options.cache.maxAge);
      answer = { kind: 'accepted', header: NO_HEADER, payload, scopes, ...interval };
    } catch (error) {
      if (error instanceof InvalidTokenError) return refuse(error);
      throw error;
    }
    this.cache.set(hash, answer, nowMs);
    return answer;
  }
}
