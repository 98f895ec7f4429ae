/**
 * DPoP at the token endpoint (RFC 9449 sections 5 and 8): every token request carries a new
 * proof (`htm` POST, `htu` the endpoint), with the authorization server's nonce once it gave one;
 * a `400 use_dpop_nonce` with a `DPoP-Nonce` is answered with exactly one more request carrying
 * it; the nonce is updated from every answer that sends a new one. The token must come back as
 * `token_type: DPoP`, unless the user allowed a Bearer downgrade.
 */
import type { TokenRequestBinding } from '../grant/token-request-binding.js';
import { TokenRequestError } from '../token-request-error.js';
import type { DpopNonces } from './dpop-nonces.js';
import type { DpopProofSigner } from './dpop-proof.js';

export function dpopTokenRequest(signer: DpopProofSigner, nonces: DpopNonces, allowBearerDowngrade: boolean): TokenRequestBinding {
  // One token request at a time per provider (the reuse layer's single flight): the nonce the
  // current attempt carried, and whether its answer brought another one (a retry with it can succeed).
  let sentNonce: string | undefined;
  let newNonce = false;
  return {
    headers: (tokenEndpoint) => {
      const url = new URL(tokenEndpoint);
      sentNonce = nonces.get(url);
      return { dpop: signer.proof({ htm: 'POST', url, nonce: sentNonce }) };
    },
    observe: (tokenEndpoint, response) => {
      const nonce = nonces.observe(tokenEndpoint, response);
      newNonce = nonce !== undefined && nonce !== sentNonce;
    },
    retry: (error) => error.error === 'use_dpop_nonce' && newNonce,
    accept: (response, tokenEndpoint) => {
      if (response.tokenType === 'DPoP' || allowBearerDowngrade) return;
      throw new TokenRequestError(
        `token endpoint ${tokenEndpoint} issued a ${response.tokenType} token although a DPoP proof was sent: the token is not bound `
        + 'to the DPoP key (enable DPoP for this client at the authorization server, or set "dpop.allowBearerDowngrade")',
        { code: 'ERR_TOKEN_NOT_BOUND', tokenEndpoint },
      );
    },
  };
}
