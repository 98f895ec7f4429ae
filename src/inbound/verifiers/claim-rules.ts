/**
 * Claim rules: the application's own checks of a verified token's claims (a value, a list of
 * values, or a predicate, sync or async), and the replacements of the default `iss` and `aud`
 * checks. Parsed once at construction into a list of checks; run after the registered-claim
 * checks (whose type checks always stay), by every verifier that checks claims.
 */
import type { JWTPayload } from 'jose';
import { InvalidTokenError } from '../../errors/bearer-errors.js';
import type { JwtErrorCode } from '../../errors/error-codes.js';
import { isPromiseLike } from '../../lib/is-promise-like.js';
import type { OptionReader } from '../../options/option-reader.js';
import { mismatch } from '../rejection-detail.js';
import type { DeepReadonly } from '../verified-token.js';
import { invalidToken } from './jwt/invalid-token.js';

/**
 * A predicate on one claim: `value` is the claim (`undefined` when absent), `payload` the whole
 * verified payload. `true` accepts; `false`, anything else, a throw or a rejection refuses the
 * token (401 `invalid_token`; a throw is kept as the error's `cause`, never sent to the client).
 * A predicate that throws an `InvalidTokenError` refuses with that error as it is: its own
 * `error_description` can name the likely mistake (never put token content in it).
 *
 * @example
 * ```ts
 * import type { ClaimPredicate } from 'express-m2m';
 *
 * const knownTenant: ClaimPredicate<unknown> = async (tenant) => typeof tenant === 'string' && (await tenants.has(tenant));
 * ```
 */
// A method's signature, so that a predicate of a narrower claim type fits where `unknown` is expected.
export type ClaimPredicate<T> = {
  /** `true` accepts the claim. */
  bivariant(value: T, payload: DeepReadonly<JWTPayload>): boolean | PromiseLike<boolean>;
}['bivariant'];

/** A claim's accepted value: a string, a finite number or a boolean. */
export type ClaimRuleValue = string | number | boolean;

/**
 * What one claim must satisfy: a value (the claim equals it, or, for an array claim, contains it),
 * a non-empty list of values (the claim is one of them, or an array claim contains one), or a
 * {@link ClaimPredicate}. A value or list makes the claim required.
 *
 * @example
 * ```ts
 * import type { ClaimRule } from 'express-m2m';
 *
 * const tenant: ClaimRule = ['acme', 'globex'];
 * const emailVerified: ClaimRule = true;
 * const roles: ClaimRule<unknown> = (value) => Array.isArray(value) && value.includes('reader');
 * ```
 */
export type ClaimRule<T = unknown> = ClaimRuleValue | readonly ClaimRuleValue[] | ClaimPredicate<T>;

/**
 * The `claims` option: a rule per claim. A rule for `iss` replaces the exact match against the
 * configured issuer (the issuer still chooses the keys); a rule for `aud` replaces the `audience`
 * check (give one of them, not both). The type checks of the registered claims always stay
 * (`iss`, `sub`, `jti`, `client_id` strings, `aud` a string or strings). The time claims (`exp`,
 * `nbf`, `iat`) are checked by `clockTolerance` and `maxTokenAge`, `cnf` by the binding checks:
 * rules for them are refused. With the verified-token cache on, a token's rules run when it is
 * first verified and their outcome is cached with it: a check that must run on every request
 * belongs in `isRevoked` or a guard.
 *
 * @example
 * ```ts
 * import { requireAuth } from 'express-m2m';
 *
 * app.use(requireAuth({
 *   issuerBaseURL: 'https://issuer.example/',
 *   audience: 'https://api.example',
 *   claims: { tenant: ['acme', 'globex'], email_verified: true, sub: (sub) => sub !== 'blocked-client' },
 * }));
 * ```
 */
export interface ClaimRules {
  /** Replaces the exact match of `iss` against the configured issuer. */
  iss?: ClaimRule<string>;
  /** Replaces the `audience` check (the value is a string or an array of strings). */
  aud?: ClaimRule<string | readonly string[]>;
  /** A rule for `sub`, besides its type check. */
  sub?: ClaimRule<string | undefined>;
  /** A rule for `client_id`, besides its type check. */
  client_id?: ClaimRule<string | undefined>;
  /** A rule for any other claim. */
  [claim: string]: ClaimRule | undefined;
}

/** One compiled rule: throws (or rejects with) an `InvalidTokenError`, else returns nothing. */
type ClaimCheck = (payload: DeepReadonly<JWTPayload>) => void | PromiseLike<void>;

/** The rules of a verifier, compiled. */
export interface CompiledClaimRules {
  /** Whether `iss` / `aud` have a rule of the user's instead of the default check. */
  readonly replaces: { readonly iss: boolean; readonly aud: boolean };
  /** Runs every rule; a promise only when a predicate returned one. */
  check(payload: DeepReadonly<JWTPayload>): void | Promise<void>;
}

/** Claims whose checks cannot be replaced, and what checks them. */
const NOT_REPLACEABLE: Readonly<Record<string, string>> = Object.freeze({
  exp: 'is checked with "clockTolerance"',
  nbf: 'is checked with "clockTolerance"',
  iat: 'is checked with "clockTolerance" and "maxTokenAge"',
  cnf: 'is checked by the binding checks (a sender-constrained token is never a bearer token)',
});

function codeOf(claim: string): JwtErrorCode {
  return claim === 'iss' ? 'ERR_JWT_ISSUER' : claim === 'aud' ? 'ERR_JWT_AUDIENCE' : 'ERR_JWT_CLAIM_INVALID';
}

function refuse(payload: DeepReadonly<JWTPayload>, claim: string, expected: unknown, cause?: unknown): never {
  const value = (payload as Record<string, unknown>)[claim];
  if (value === undefined && expected !== undefined) {
    throw invalidToken('ERR_JWT_CLAIM_MISSING', `missing required '${claim}' claim`, mismatch(payload, claim, expected, undefined));
  }
  throw invalidToken(codeOf(claim), `unexpected '${claim}' claim value`, mismatch(payload, claim, expected, value), cause);
}

function isRuleValue(value: unknown): value is ClaimRuleValue {
  // Number.isFinite is false for anything that is not a number (it does not convert)
  return typeof value === 'string' || typeof value === 'boolean' || Number.isFinite(value);
}

/** A value or list rule: the claim is one of `accepted`, or an array claim contains one of them. */
function valueCheck(claim: string, accepted: readonly ClaimRuleValue[]): ClaimCheck {
  const expected = accepted.length === 1 ? accepted[0] : accepted;
  return (payload) => {
    const value = (payload as Record<string, unknown>)[claim];
    const ok = Array.isArray(value) ? value.some((item) => accepted.includes(item as ClaimRuleValue)) : accepted.includes(value as ClaimRuleValue);
    if (!ok) refuse(payload, claim, expected);
  };
}

function predicateCheck(claim: string, predicate: ClaimPredicate<unknown>): ClaimCheck {
  const judge = (payload: DeepReadonly<JWTPayload>, verdict: unknown): void => {
    if (verdict !== true) refuse(payload, claim, undefined);
  };
  return (payload) => {
    let verdict: unknown;
    try {
      verdict = predicate((payload as Record<string, unknown>)[claim], payload);
    } catch (error) {
      if (error instanceof InvalidTokenError) throw error;
      refuse(payload, claim, undefined, error);
    }
    if (!isPromiseLike(verdict)) return judge(payload, verdict);
    return Promise.resolve(verdict).then((answer) => judge(payload, answer), (error: unknown) => {
      if (error instanceof InvalidTokenError) throw error;
      return refuse(payload, claim, undefined, error);
    });
  };
}

/**
 * Reads the `claims` option (`undefined` when not given). Bad rules throw a `TypeError` naming
 * `claims.<name>`.
 */
export function readClaimRules<T extends { claims?: ClaimRules }>(read: OptionReader<T>): CompiledClaimRules | undefined {
  if (!read.has('claims')) return undefined;
  const option = read.raw('claims');
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    read.fail('claims', "must be an object: a rule per claim, like { tenant: 'acme' }");
  }
  const checks: ClaimCheck[] = [];
  for (const [claim, rule] of Object.entries(option as Record<string, unknown>)) {
    const name = `claims.${claim}`;
    const fixed = NOT_REPLACEABLE[claim];
    if (fixed !== undefined) read.failWith(`${read.describe(name)}: '${claim}' ${fixed}; it takes no rule`);
    if (typeof rule === 'function') checks.push(predicateCheck(claim, rule as ClaimPredicate<unknown>));
    else if (isRuleValue(rule)) checks.push(valueCheck(claim, [rule]));
    else if (Array.isArray(rule) && rule.length > 0 && rule.every(isRuleValue)) checks.push(valueCheck(claim, [...rule]));
    else read.failWith(`${read.describe(name)} must be a string, a finite number, a boolean, a non-empty array of those, or a function`);
  }
  const rules = option as Record<string, unknown>;
  const replaces = Object.freeze({ iss: Object.hasOwn(rules, 'iss'), aud: Object.hasOwn(rules, 'aud') });
  return Object.freeze({
    replaces,
    check(payload: DeepReadonly<JWTPayload>): void | Promise<void> {
      for (let i = 0; i < checks.length; i += 1) {
        const done = (checks[i] as ClaimCheck)(payload);
        if (isPromiseLike(done)) {
          const rest = checks.slice(i + 1);
          return Promise.resolve(done).then(async () => {
            for (const next of rest) await next(payload);
          });
        }
      }
      return undefined;
    },
  });
}
