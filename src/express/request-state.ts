/**
 * Internal: what `requireAuth` admitted, remembered for the guards after it: the verified tokens
 * it put on `req.auth` (a guard trusts only those, not whatever another middleware may have put on
 * `req.auth`), and the challenge context its rejections are answered in.
 *
 * Remembered by token, not on the request: a module-private `WeakMap` from each admitted token to
 * its requireAuth's context. A token served from the verified-token cache is the same object on
 * every request, so admitting it again allocates nothing; a property added to the request instead
 * grows Node's request object on every request (measured: 1.2 KB and about 3.5 % of a cached
 * request's server CPU, bench/README.md). Only an anonymous request (`credentialsRequired: false`)
 * is marked on the request itself, under a module-private symbol, and only when its requireAuth
 * has a context to remember.
 */
import { DEFAULT_CHALLENGE_CONTEXT, type ChallengeContext } from '../errors/challenge.js';
import type { VerifiedToken } from '../inbound/verified-token.js';
import type { RequireAuthEvent } from './require-auth-options.js';

const ANONYMOUS = Symbol('express-m2m admission context');

/** How the guards after a requireAuth answer (its challenge context) and whom they report to (its onEvent). */
export interface AdmissionContext {
  readonly context: ChallengeContext;
  readonly onEvent: ((event: RequireAuthEvent) => void) | undefined;
}

/** Every token a requireAuth admitted, with that requireAuth's context (`null`: none to remember). */
const admitted = new WeakMap<object, AdmissionContext | null>();

interface AdmittedRequest {
  auth?: unknown;
  [ANONYMOUS]?: AdmissionContext;
}

/** `admission` is undefined for a requireAuth without realm or onEvent (nothing to remember but the token). */
export function rememberAdmission(auth: VerifiedToken, admission: AdmissionContext | undefined): void {
  admitted.set(auth, admission ?? null);
}

/** A request requireAuth let through without credentials (`credentialsRequired: false`): only its context is remembered. */
export function rememberAnonymous(req: object, admission: AdmissionContext | undefined): void {
  if (admission !== undefined) (req as AdmittedRequest)[ANONYMOUS] = admission;
}

/** The token on `req.auth`, if a requireAuth admitted it. */
export function admittedToken(req: { auth?: unknown }): VerifiedToken | undefined {
  const auth = req.auth;
  return typeof auth === 'object' && auth !== null && admitted.has(auth) ? auth as VerifiedToken : undefined;
}

/** The context of the requireAuth that admitted `req.auth`, or that let the request through anonymously. */
function admissionOf(req: object): AdmissionContext | undefined {
  const auth = (req as AdmittedRequest).auth;
  const context = typeof auth === 'object' && auth !== null ? admitted.get(auth) : undefined;
  return context === undefined ? (req as AdmittedRequest)[ANONYMOUS] : context ?? undefined;
}

/** The challenge context of the requireAuth that admitted this request. */
export function challengeContextOf(req: object): ChallengeContext {
  return admissionOf(req)?.context ?? DEFAULT_CHALLENGE_CONTEXT;
}

/** The onEvent of the requireAuth that admitted this request, if it has one. */
export function observerOf(req: object): ((event: RequireAuthEvent) => void) | undefined {
  return admissionOf(req)?.onEvent;
}
