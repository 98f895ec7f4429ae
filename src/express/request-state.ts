/**
 * Internal: what `requireAuth` admitted, remembered on the request for the guards after it: the
 * verified token it put on `req.auth` (a guard trusts only that, not whatever another middleware
 * may have put on `req.auth`), and the challenge context its rejections are answered in. Kept
 * under module-private symbols: no allocation on the hot path, invisible to `Object.keys` and JSON.
 */
import { DEFAULT_CHALLENGE_CONTEXT, type ChallengeContext } from '../errors/challenge.js';
import type { VerifiedToken } from '../inbound/verified-token.js';

const ADMITTED = Symbol('express-m2m admitted token');
const CONTEXT = Symbol('express-m2m challenge context');

interface AdmittedRequest {
  auth?: unknown;
  [ADMITTED]?: VerifiedToken;
  [CONTEXT]?: ChallengeContext;
}

export function rememberAdmission(req: object, auth: VerifiedToken, context: ChallengeContext): void {
  const admitted = req as AdmittedRequest;
  admitted[ADMITTED] = auth;
  if (context !== DEFAULT_CHALLENGE_CONTEXT) admitted[CONTEXT] = context;
}

/** The token requireAuth admitted on this request, if `req.auth` still holds it. */
export function admittedToken(req: object): VerifiedToken | undefined {
  const admitted = req as AdmittedRequest;
  const auth = admitted[ADMITTED];
  return auth !== undefined && auth === admitted.auth ? auth : undefined;
}

/** The challenge context of the requireAuth that admitted this request. */
export function challengeContextOf(req: object): ChallengeContext {
  return (req as AdmittedRequest)[CONTEXT] ?? DEFAULT_CHALLENGE_CONTEXT;
}
