/**
 * Sender constraints: the binding checks of proof-of-possession tokens. Each checks one
 * confirmation method of the `cnf` claim (RFC 7800): DPoP's `jkt` (RFC 9449 section 6), mTLS's
 * `x5t#S256` (RFC 8705 section 3.1). A token bound both ways needs both proofs; a token bound by a
 * method no enabled constraint checks is refused (`refuseUnhandledConfirmation`). Each constraint
 * is a file of this folder, and one line of `readSenderConstraints`.
 */
import { readDpop } from '../../dpop/dpop-options.js';
import type { OptionReader } from '../../options/option-reader.js';
import type { AuthenticatorOptions } from '../authenticate.js';
import type { BindingCheck } from './binding-check.js';
import { dpopConstraint } from './dpop-constraint.js';
import { readCertificateBinding } from './certificate-binding.js';
import { refuseUnhandledConfirmation } from './refuse-confirmation.js';

/**
 * A binding check for one confirmation method. It verifies the binding when the token's `cnf`
 * has its member, and decides (by its mode) what a token without it may do.
 *
 * @example
 * ```ts
 * import { InvalidTokenError } from 'express-m2m';
 * import type { SenderConstraint } from 'express-m2m/extend';
 *
 * const certificateBound: SenderConstraint = {
 *   confirmationMethod: 'x5t#S256',
 *   check: (token, credentials, request) => {
 *     if (token.payload.cnf !== undefined && request.clientCertificate === undefined) throw new InvalidTokenError('no client certificate');
 *   },
 * };
 * ```
 */
export interface SenderConstraint extends BindingCheck {
  /** The member of the `cnf` claim this constraint checks, e.g. `jkt` or `x5t#S256`. */
  readonly confirmationMethod: string;
}

/**
 * The binding checks of the sender constraints the options enable, in order, followed by the
 * refusal of any other confirmation method. With none enabled: `[refuseConfirmation]`.
 */
export function readSenderConstraints(read: OptionReader<AuthenticatorOptions>): BindingCheck[] {
  const constraints: SenderConstraint[] = [];
  // One line per sender constraint: DPoP (RFC 9449), mTLS (RFC 8705).
  const dpop = readDpop(read);
  if (dpop !== undefined) constraints.push(dpopConstraint(dpop, read.func('onEvent')));
  constraints.push(...readCertificateBinding(read));
  return [refuseUnhandledConfirmation(constraints.map((constraint) => constraint.confirmationMethod)), ...constraints];
}
