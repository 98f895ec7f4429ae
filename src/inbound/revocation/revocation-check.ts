/**
 * The revocation check: the application's `isRevoked(auth, request)` hook, run after the binding
 * checks on every admitted request, its answer cached per token (by the token's SHA-256): "not
 * revoked" for `maxAge` at most, "revoked" until the token expires (a revoked token never comes
 * back). Concurrent requests with the same token ask the hook once. A hook that throws, rejects or
 * does not answer within the timeout gets the request a 503 (the API cannot tell now); failures
 * are not cached.
 */
import { InvalidTokenError, KeySourceUnavailableError } from '../../errors/bearer-errors.js';
import { withoutStack } from '../../errors/without-stack.js';
import type { KnownOptions, OptionReader } from '../../options/option-reader.js';
import type { BindingCheck } from '../bindings/binding-check.js';
import type { InboundRequest } from '../inbound-request.js';
import { clientOf } from '../rejection-detail.js';
import type { VerifiedToken } from '../verified-token.js';
import { tokenHash } from '../verifiers/jwt/verified-token-cache.js';

/**
 * Says whether a verified token has been revoked (`true`: the request gets 401 `invalid_token`,
 * `ERR_TOKEN_REVOKED`). It may be async; its answer is cached per token (see `revocationCache`).
 *
 * @example
 * ```ts
 * import type { RevocationHook } from 'express-m2m';
 *
 * const isRevoked: RevocationHook = async (auth) => typeof auth.payload.jti === 'string' && (await denylist.has(auth.payload.jti));
 * ```
 */
export type RevocationHook = (auth: VerifiedToken, request: InboundRequest) => boolean | PromiseLike<boolean>;

/** The options of the revocation check. */
export interface RevocationOptions {
  /** Says whether a verified token has been revoked: see {@link RevocationHook}. Default: no check. */
  isRevoked?: RevocationHook;
  /**
   * How long the hook's answers are kept, per token (by its SHA-256): `maxAge` for "not revoked"
   * (milliseconds, capped at the token's `exp`; default 30000: a revocation takes effect within
   * 30 s while a busy token costs one call per 30 s), "revoked" until the token expires;
   * `maxEntries` bounds the tokens remembered (default 10000, least recently used first out).
   * `false`: ask the hook on every request.
   */
  revocationCache?: false | {
    /** Longest a "not revoked" answer is kept, in milliseconds (capped at the token's `exp`). Default 30000. */
    maxAge?: number;
    /** Most tokens whose answers are kept. Default 10000. */
    maxEntries?: number;
  };
  /** Longest the hook may take to answer (the request gets a 503 past it), in milliseconds. Default 5000. */
  revocationTimeout?: number;
}

/** Defaults, in one place. */
export const REVOCATION_DEFAULTS = Object.freeze({ maxAge: 30_000, maxEntries: 10_000, timeout: 5000 });

/** Every option of the revocation check. */
export const REVOCATION_OPTION_NAMES: KnownOptions<RevocationOptions> = { isRevoked: true, revocationCache: true, revocationTimeout: true };

const CACHE_OPTION_NAMES: KnownOptions<{ maxAge: number; maxEntries: number }> = { maxAge: true, maxEntries: true };

interface Answer {
  readonly revoked: boolean;
  /** Epoch milliseconds after which the answer is asked again. */
  readonly until: number;
}

function revoked(auth: VerifiedToken): never {
  const client = clientOf(auth.payload as Record<string, unknown>);
  throw withoutStack(() => new InvalidTokenError('the token has been revoked', 'ERR_TOKEN_REVOKED', client === undefined ? {} : { detail: { client } }));
}

function unavailable(cause: unknown): KeySourceUnavailableError {
  return withoutStack(() => new KeySourceUnavailableError('the revocation check is temporarily unavailable', 1, { cause }));
}

/** The revocation check of the options read by `read`, or `undefined` without an `isRevoked` hook. */
export function readRevocationCheck(read: OptionReader<RevocationOptions>, now: () => number): BindingCheck | undefined {
  const hook = read.func<RevocationHook>('isRevoked', 'a function (auth, request) => boolean | Promise<boolean>');
  if (hook === undefined) {
    for (const name of ['revocationCache', 'revocationTimeout'] as const) if (read.has(name)) read.fail(name, 'applies only with "isRevoked"');
    return undefined;
  }
  const timeout = read.duration('revocationTimeout', REVOCATION_DEFAULTS.timeout);
  let maxAge: number = REVOCATION_DEFAULTS.maxAge;
  let maxEntries: number = REVOCATION_DEFAULTS.maxEntries;
  const cacheOption = read.raw('revocationCache');
  if (cacheOption === false) maxEntries = 0;
  else if (cacheOption !== undefined) {
    if (typeof cacheOption !== 'object' || cacheOption === null || Array.isArray(cacheOption)) {
      read.fail('revocationCache', 'must be false or an object like { maxAge: 30000, maxEntries: 10000 }');
    }
    const cache = read.nested('revocationCache', CACHE_OPTION_NAMES);
    maxAge = cache.duration('maxAge', REVOCATION_DEFAULTS.maxAge);
    maxEntries = cache.integer('maxEntries', REVOCATION_DEFAULTS.maxEntries);
  }
  return revocationCheck(hook, { maxAge, maxEntries, timeout, now });
}

interface RevocationSettings {
  maxAge: number;
  /** 0: nothing cached. */
  maxEntries: number;
  timeout: number;
  now: () => number;
}

function revocationCheck(hook: RevocationHook, settings: RevocationSettings): BindingCheck {
  /** Insertion order = recency (a hit moves the entry to the end). */
  const answers = new Map<string, Answer>();
  const pending = new Map<string, Promise<boolean>>();

  const keep = (key: string, auth: VerifiedToken, isRevoked: boolean): void => {
    if (settings.maxEntries === 0) return;
    const exp = typeof auth.payload.exp === 'number' ? auth.payload.exp * 1000 : Number.POSITIVE_INFINITY;
    const until = isRevoked ? exp : Math.min(settings.now() + settings.maxAge, exp);
    answers.delete(key);
    answers.set(key, { revoked: isRevoked, until });
    while (answers.size > settings.maxEntries) answers.delete(answers.keys().next().value as string);
  };

  const ask = (key: string, auth: VerifiedToken, request: InboundRequest): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unavailable(new Error(`isRevoked did not answer within ${settings.timeout} ms`))), settings.timeout);
    });
    const answer = Promise.resolve().then(() => hook(auth, request)).then((verdict) => {
      if (typeof verdict !== 'boolean') throw unavailable(new TypeError(`isRevoked must answer true or false, got ${typeof verdict}`));
      keep(key, auth, verdict);
      return verdict;
    }, (error: unknown) => { throw unavailable(error); });
    return Promise.race([answer, timedOut]).finally(() => {
      clearTimeout(timer);
      pending.delete(key);
    });
  };

  return {
    check(auth, _credentials, request) {
      const key = tokenHash(auth.token);
      const known = answers.get(key);
      if (known !== undefined) {
        if (settings.now() < known.until) {
          if (known.revoked) revoked(auth);
          answers.delete(key);
          answers.set(key, known);
          return undefined;
        }
        answers.delete(key);
      }
      const asked = pending.get(key) ?? ask(key, auth, request);
      pending.set(key, asked);
      return asked.then((isRevoked) => {
        if (isRevoked) revoked(auth);
      });
    },
  };
}
