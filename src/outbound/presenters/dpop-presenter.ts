/**
 * The DPoP presenter (RFC 9449 section 7): `Authorization: DPoP <token>` and a new proof for
 * every request (`htm`, `htu`, `ath`, a fresh `jti` and `iat`, and the resource server's nonce
 * once it gave one). A `401` with a `DPoP error="use_dpop_nonce"` challenge and a `DPoP-Nonce`
 * asks for the request again with that nonce (section 9); a `DPoP error="invalid_token"`
 * challenge refuses the token itself. A proof is good for one URL, so redirects are handed back
 * to the caller (`redirect: 'manual'`), never followed with the same proof. A token the
 * authorization server issued as Bearer (allowed downgrade) is presented as Bearer.
 */
import type { DpopNonces } from '../dpop/dpop-nonces.js';
import { sentMethod, type DpopProofSigner } from '../dpop/dpop-proof.js';
import { challengeErrors } from './challenge-errors.js';
import type { TokenPresenter } from './token-presenter.js';

/** The errors of a 401's challenges, by scheme (none for another status). */
function challengesOf(response: Response): Map<string, string | undefined> | undefined {
  if (response.status !== 401) return undefined;
  const header = response.headers.get('www-authenticate');
  return header === null ? undefined : challengeErrors(header);
}

function dpopChallengeError(response: Response): string | undefined {
  return challengesOf(response)?.get('dpop');
}

export function dpopPresenter(signer: DpopProofSigner, nonces: DpopNonces): TokenPresenter {
  /** What each request's proof was for (by its headers): its parsed URL, and the nonce it carried (to tell a nonce it has not tried). */
  const sent = new WeakMap<Headers, { readonly url: URL; readonly nonce: string | undefined }>();
  return {
    tokenTypes: ['DPoP', 'Bearer'],
    redirect: 'manual',
    present(token, request, headers) {
      if (token.tokenType.toLowerCase() === 'bearer') {
        headers.set('authorization', `Bearer ${token.accessToken}`);
        headers.delete('dpop');
        return;
      }
      const url = new URL(request.url);
      const nonce = nonces.get(url);
      sent.set(headers, { url, nonce });
      headers.set('authorization', `DPoP ${token.accessToken}`);
      headers.set('dpop', signer.proof({ htm: sentMethod(request.method), url, accessToken: token.accessToken, nonce }));
    },
    observe(response, request, headers) {
      const proof = sent.get(headers);
      const nonce = nonces.observe(proof?.url ?? request.url, response);
      return nonce !== undefined && nonce !== proof?.nonce && dpopChallengeError(response) === 'use_dpop_nonce';
    },
    // The token itself refused, in the DPoP challenge or (a downgraded Bearer token) the Bearer one.
    refused: (response) => {
      const errors = challengesOf(response);
      return errors !== undefined && (errors.get('dpop') === 'invalid_token' || errors.get('bearer') === 'invalid_token');
    },
  };
}
