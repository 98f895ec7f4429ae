/**
 * The binding check that keeps sender-constrained tokens from being used as bearer tokens: a
 * token that carries a confirmation claim (`cnf`, RFC 7800; `jkt` for DPoP, RFC 9449 section 6;
 * `x5t#S256` for mTLS, RFC 8705 section 3.1) is refused unless every confirmation method it names
 * is checked by a sender constraint this API enables. Whoever stole such a token must not be able
 * to use it without the key or certificate it is bound to.
 */
import { InvalidTokenError } from '../../errors/bearer-errors.js';
import { withoutStack } from '../../errors/without-stack.js';
import { mismatch } from '../rejection-detail.js';
import type { VerifiedToken } from '../verified-token.js';
import type { BindingCheck } from './binding-check.js';

/** The confirmation methods a `cnf` claim names (`jkt`, `x5t#S256`, ...), for operators. */
function confirmationMethods(cnf: unknown): string {
  return typeof cnf === 'object' && cnf !== null ? Object.keys(cnf).join(' ') : typeof cnf;
}

/** Whether `cnf` names at least one confirmation method and every one is in `handled` (a `cnf` that is not an object never does). */
function allHandled(cnf: unknown, handled: ReadonlySet<string>): boolean {
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) return false;
  const members = Object.keys(cnf);
  for (const member of members) if (!handled.has(member)) return false;
  return members.length > 0;
}

/**
 * Throws 401 `ERR_TOKEN_SENDER_CONSTRAINED` when `token` carries a confirmation claim with a
 * method outside `handled` (by default: any confirmation claim at all).
 */
export function refuseConfirmed(token: VerifiedToken, handled: ReadonlySet<string> = NO_METHODS): void {
  const cnf = token.payload.cnf;
  if (cnf !== undefined && (handled.size === 0 || !allHandled(cnf, handled))) {
    throw withoutStack(() => new InvalidTokenError(
      handled.size === 0
        ? "the token is sender-constrained (it has a 'cnf' claim) and this API accepts no proof of possession for it"
        : `the token is sender-constrained by a method this API does not check (its 'cnf' claim names ${confirmationMethods(cnf) || 'nothing'}; this API checks ${[...handled].join(', ')})`,
      'ERR_TOKEN_SENDER_CONSTRAINED',
      { detail: mismatch(token.payload, 'cnf', handled.size === 0 ? 'none' : [...handled].join(' '), confirmationMethods(cnf)) },
    ));
  }
}

const NO_METHODS: ReadonlySet<string> = new Set();

/** The binding check of an API that accepts no proof of possession: every `cnf`-bound token is refused. */
export const refuseConfirmation: BindingCheck = { check: (token) => refuseConfirmed(token) };

/**
 * The binding check that refuses a token bound by a confirmation method that none of the enabled
 * sender constraints (`handled`: e.g. `jkt` when DPoP is on) checks. With none enabled, it is
 * {@link refuseConfirmation}.
 */
export function refuseUnhandledConfirmation(handled: readonly string[]): BindingCheck {
  if (handled.length === 0) return refuseConfirmation;
  const methods: ReadonlySet<string> = new Set(handled);
  return { check: (token) => refuseConfirmed(token, methods) };
}
