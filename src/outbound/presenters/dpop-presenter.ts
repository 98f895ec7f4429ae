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
import { isInvalidTokenChallenge } from './bearer-presenter.js';
import type { TokenPresenter } from './token-presenter.js';

/** The `error` parameter of each challenge of a `WWW-Authenticate` value, by scheme (lower case). */
export function challengeErrors(header: string): Map<string, string | undefined> {
  const errors = new Map<string, string | undefined>();
  // auth-param values may be quoted strings containing commas: split only outside quotes
  const parts = header.match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? [];
  let scheme: string | undefined;
  for (const part of parts) {
    const withScheme = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:\s+(.*))?$/s.exec(part);
    let param = part;
    if (withScheme !== null && !/^\s*[^=\s]+\s*=/.test(part)) {
      scheme = withScheme[1]!.toLowerCase();
      if (!errors.has(scheme)) errors.set(scheme, undefined);
      param = withScheme[2] ?? '';
    }
    const error = /^\s*error\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/i.exec(param);
    if (scheme !== undefined && error !== null && errors.get(scheme) === undefined) errors.set(scheme, error[1] ?? error[2]);
  }
  return errors;
}

function dpopChallengeError(response: Response): string | undefined {
  if (response.status !== 401) return undefined;
  const header = response.headers.get('www-authenticate');
  return header === null ? undefined : challengeErrors(header).get('dpop');
}

export function dpopPresenter(signer: DpopProofSigner, nonces: DpopNonces): TokenPresenter {
  /** The nonce each request's proof carried (by its headers), to tell a nonce it has not tried. */
  const sentNonce = new WeakMap<Headers, string | undefined>();
  return {
    tokenTypes: ['DPoP', 'Bearer'],
    redirect: 'manual',
    present(token, request, headers) {
      if (token.tokenType.toLowerCase() === 'bearer') {
        headers.set('authorization', `Bearer ${token.accessToken}`);
        headers.delete('dpop');
        return;
      }
      const nonce = nonces.get(request.url);
      sentNonce.set(headers, nonce);
      headers.set('authorization', `DPoP ${token.accessToken}`);
      headers.set('dpop', signer.proof({ htm: sentMethod(request.method), url: request.url, accessToken: token.accessToken, nonce }));
    },
    observe(response, request, headers) {
      const nonce = nonces.observe(request.url, response);
      return nonce !== undefined && nonce !== sentNonce.get(headers) && dpopChallengeError(response) === 'use_dpop_nonce';
    },
    refused: (response) => dpopChallengeError(response) === 'invalid_token' || isInvalidTokenChallenge(response),
  };
}
