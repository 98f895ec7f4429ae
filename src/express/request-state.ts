/**
 * Internal: what `requireAuth` admitted on a request, remembered for the guards after it: the
 * verified token it put on `req.auth` (a guard trusts only that, not whatever another middleware
 * may have put on `req.auth`, nor a token admitted on another request), and the context its
 * rejections are answered in.
 *
 * Kept in module-private `WeakMap`s keyed by the request, not as properties of the request: a
 * property added to Node's request object grows its property store on every request (measured:
 * 1.34 KB per request, bench/README.md); a `WeakMap` entry costs about 80 bytes, and goes with the
 * request.
 */
import { DEFAULT_CHALLENGE_CONTEXT, type ChallengeContext } from '../errors/challenge.js';
import type { VerifiedToken } from '../inbound/verified-token.js';
import type { RequireAuthEvent } from './require-auth-options.js';

/** How the guards after a requireAuth answer (its challenge context) and whom they report to (its onEvent). */
export interface AdmissionContext {
  readonly context: ChallengeContext;
  readonly onEvent: ((event: RequireAuthEvent) => void) | undefined;
}

/** The token each request was admitted with. */
const admittedTokens = new WeakMap<object, VerifiedToken>();
/** The context of the requireAuth that admitted each request (only when it has one to remember). */
const admissionContexts = new WeakMap<object, AdmissionContext>();

/** `admission` is undefined for a requireAuth without realm or onEvent (nothing to remember but the token). */
export function rememberAdmission(req: object, auth: VerifiedToken, admission: AdmissionContext | undefined): void {
  admittedTokens.set(req, auth);
  if (admission !== undefined) admissionContexts.set(req, admission);
  else admissionContexts.delete(req);
}

/** A request requireAuth let through without credentials (`credentialsRequired: false`): only its context is remembered. */
export function rememberAnonymous(req: object, admission: AdmissionContext | undefined): void {
  if (admission !== undefined) admissionContexts.set(req, admission);
}

/** The token requireAuth admitted on this request, if `req.auth` still holds it. */
export function admittedToken(req: { auth?: unknown }): VerifiedToken | undefined {
  const auth = admittedTokens.get(req);
  return auth !== undefined && auth === req.auth ? auth : undefined;
}

/** The challenge context of the requireAuth that admitted this request. */
export function challengeContextOf(req: object): ChallengeContext {
  return admissionContexts.get(req)?.context ?? DEFAULT_CHALLENGE_CONTEXT;
}

/** The onEvent of the requireAuth that admitted this request, if it has one. */
export function observerOf(req: object): ((event: RequireAuthEvent) => void) | undefined {
  return admissionContexts.get(req)?.onEvent;
}
