/**
 * Internal: what `requireAuth` admitted, remembered on the request for the guards after it: the
 * verified token it put on `req.auth` (a guard trusts only that, not whatever another middleware
 * may have put on `req.auth`), and the challenge context its rejections are answered in. Kept
 * under module-private symbols: no allocation on the hot path, invisible to `Object.keys` and JSON.
 */
import { DEFAULT_CHALLENGE_CONTEXT, type ChallengeContext } from '../errors/challenge.js';
import type { VerifiedToken } from '../inbound/verified-token.js';
import type { RequireAuthEvent } from './require-auth-options.js';

const ADMITTED = Symbol('express-m2m admitted token');
const CONTEXT = Symbol('express-m2m admission context');

/** How the guards after a requireAuth answer (its challenge context) and whom they report to (its onEvent). */
export interface AdmissionContext {
  readonly context: ChallengeContext;
  readonly onEvent: ((event: RequireAuthEvent) => void) | undefined;
}

interface AdmittedRequest {
  auth?: unknown;
  [ADMITTED]?: VerifiedToken;
  [CONTEXT]?: AdmissionContext;
}

/** `admission` is undefined for a requireAuth without realm or onEvent (nothing to remember but the token). */
export function rememberAdmission(req: object, auth: VerifiedToken, admission: AdmissionContext | undefined): void {
  const admitted = req as AdmittedRequest;
  admitted[ADMITTED] = auth;
  if (admission !== undefined) admitted[CONTEXT] = admission;
}

/** A request requireAuth let through without credentials (`credentialsRequired: false`): only its context is remembered. */
export function rememberAnonymous(req: object, admission: AdmissionContext | undefined): void {
  if (admission !== undefined) (req as AdmittedRequest)[CONTEXT] = admission;
}

/** The token requireAuth admitted on this request, if `req.auth` still holds it. */
export function admittedToken(req: object): VerifiedToken | undefined {
  const admitted = req as AdmittedRequest;
  const auth = admitted[ADMITTED];
  return auth !== undefined && auth === admitted.auth ? auth : undefined;
}

/** The challenge context of the requireAuth that admitted this request. */
export function challengeContextOf(req: object): ChallengeContext {
  return (req as AdmittedRequest)[CONTEXT]?.context ?? DEFAULT_CHALLENGE_CONTEXT;
}

/** The onEvent of the requireAuth that admitted this request, if it has one. */
export function observerOf(req: object): ((event: RequireAuthEvent) => void) | undefined {
  return (req as AdmittedRequest)[CONTEXT]?.onEvent;
}
