/** The Bearer presenter (RFC 6750): `Authorization: Bearer <token>`. */
import { challengeErrors } from './challenge-errors.js';
import type { TokenPresenter } from './token-presenter.js';

/** Whether the downstream's answer says the token itself is no good (RFC 6750 section 3.1 `invalid_token`). */
export function isInvalidTokenChallenge(response: Response): boolean {
  if (response.status !== 401) return false;
  const challenge = response.headers.get('www-authenticate');
  return challenge !== null && challengeErrors(challenge).get('bearer') === 'invalid_token';
}

export const bearerPresenter: TokenPresenter = {
  tokenTypes: ['Bearer'],
  present(token, _request, headers) {
    headers.set('authorization', `Bearer ${token.accessToken}`);
  },
  refused: isInvalidTokenChallenge,
};
