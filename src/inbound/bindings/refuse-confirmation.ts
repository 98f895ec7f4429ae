/**
 * The binding check of an API that accepts no proof of possession: a token that carries a
 * confirmation claim (`cnf`, RFC 7800; `jkt` for DPoP, RFC 9449 section 6; `x5t#S256` for mTLS,
 * RFC 8705 section 3.1) is sender-constrained and is refused, never accepted as a plain bearer
 * token: whoever stole it must not be able to use it without the key it is bound to.
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

/** Throws 401 `ERR_TOKEN_SENDER_CONSTRAINED` when `token` carries a confirmation claim. */
export function refuseConfirmed(token: VerifiedToken): void {
  if (token.payload.cnf !== undefined) {
    throw withoutStack(() => new InvalidTokenError(
      "the token is sender-constrained (it has a 'cnf' claim) and this API accepts no proof of possession for it",
      'ERR_TOKEN_SENDER_CONSTRAINED',
      { detail: mismatch(token.payload, 'cnf', 'none', confirmationMethods(token.payload.cnf)) },
    ));
  }
}

export const refuseConfirmation: BindingCheck = { check: refuseConfirmed };
