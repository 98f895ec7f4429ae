/**
 * Internal: the claim checks behind the `claimEquals`, `claimIncludes` and `claimCheck` guards,
 * each written once, framework-free (the Express adapter gives them their middleware shape).
 */
import { quotable } from '../../errors/quotable.js';
import { withoutStack } from '../../errors/without-stack.js';
import { InsufficientClaimsError } from './insufficient-claims-error.js';
import { mismatch } from '../rejection-detail.js';
import type { AuthorizationCheck } from './authorization-check.js';

/**
 * A JSON primitive a claim can be compared with.
 *
 * @example
 * ```ts
 * import { claimEquals, type ClaimValue } from 'express-m2m';
 *
 * const expected: ClaimValue = true;
 * app.get('/me', claimEquals('email_verified', expected), handler);
 * ```
 */
export type ClaimValue = string | number | boolean | null;

function parseClaimName(claim: unknown, caller: string): string {
  if (typeof claim !== 'string' || claim === '') throw new TypeError(`${caller}: "claim" must be a non-empty string`);
  return claim;
}

function isClaimValue(value: unknown): value is ClaimValue {
  return value === null || typeof value === 'string' || typeof value === 'boolean'
    || (typeof value === 'number' && Number.isFinite(value));
}

function own(payload: Readonly<Record<string, unknown>>, claim: string): unknown {
  return Object.prototype.hasOwnProperty.call(payload, claim) ? payload[claim] : undefined;
}


/**
 * A check that requires the claim `claim` to equal `expected` (strict equality of a JSON
 * primitive). Fails with 403 {@link InsufficientClaimsError} otherwise, also when the claim is
 * absent. Bad arguments throw a `TypeError` naming `caller`.
 */
export function claimEqualsCheck(claim: unknown, expected: unknown, caller: string): AuthorizationCheck {
  const name = parseClaimName(claim, caller);
  if (!isClaimValue(expected)) {
    throw new TypeError(`${caller}: "expected" must be a string, a finite number, a boolean or null`);
  }
  const description = `the ${quotable(name)} claim does not have the required value`;
  return (token) => {
    const actual = own(token.payload, name);
    if (actual !== expected) {
      throw withoutStack(() => new InsufficientClaimsError(description, name, { detail: mismatch(token.payload, name, expected, actual) }));
    }
  };
}


/**
 * A check that requires the claim `claim` to include every value of `expected`. The claim may be
 * an array, or a space-separated string (like `scope`). Fails with 403
 * {@link InsufficientClaimsError} otherwise, also when the claim is absent or of another type.
 */
export function claimIncludesCheck(claim: unknown, expected: readonly unknown[], caller: string): AuthorizationCheck {
  const name = parseClaimName(claim, caller);
  if (expected.length === 0) throw new TypeError(`${caller}: give at least one expected value`);
  for (const value of expected) {
    if (!isClaimValue(value)) {
      throw new TypeError(`${caller}: expected values must be strings, finite numbers, booleans or null`);
    }
  }
  const required = [...expected] as ClaimValue[];
  const description = `the ${quotable(name)} claim does not include the required values`;
  return (token) => {
    const value = own(token.payload, name);
    const actual: readonly unknown[] | undefined = Array.isArray(value)
      ? value
      : typeof value === 'string'
        ? value.split(' ')
        : undefined;
    if (actual === undefined || !required.every((item) => actual.includes(item))) {
      throw withoutStack(() => new InsufficientClaimsError(description, name, { detail: mismatch(token.payload, name, required, value) }));
    }
  };
}


/**
 * A check from a predicate on the verified claims. The token passes only when the predicate
 * returns exactly `true`; `false`, any other value (a promise, too: predicates are synchronous) or
 * a thrown exception fail with 403 {@link InsufficientClaimsError} carrying `description`
 * (default: `the token's claims do not allow this request`).
 */
export function claimPredicateCheck(predicate: unknown, description: unknown, caller: string): AuthorizationCheck {
  if (typeof predicate !== 'function') throw new TypeError(`${caller}: "predicate" must be a function`);
  if (description !== undefined && typeof description !== 'string') {
    throw new TypeError(`${caller}: "description" must be a string`);
  }
  const message = description ?? 'the token\'s claims do not allow this request';
  const check = predicate as (claims: unknown) => unknown;
  return (token) => {
    let result: unknown;
    try {
      result = check(token.payload);
    } catch (error) {
      throw withoutStack(() => new InsufficientClaimsError(message, undefined, { cause: error, detail: mismatch(token.payload, 'predicate', true, 'an exception') }));
    }
    if (result !== true) throw withoutStack(() => new InsufficientClaimsError(message, undefined, { detail: mismatch(token.payload, 'predicate', true, result) }));
  };
}
