/**
 * Internal: the local issuer's token introspection endpoint (RFC 7662): the caller (a resource
 * server) authenticates as at the token endpoint, with the same client registry; the answer is
 * `{ "active": false }` for a token that is unknown, expired, not yet valid or revoked, and its
 * claims with `"active": true` otherwise. With `Accept: application/token-introspection+jwt` the
 * answer is signed (RFC 9701): `typ` `token-introspection+jwt`, `iss` the issuer, `aud` the
 * caller, the answer in `token_introspection`.
 */
import { createLocalJWKSet, jwtVerify } from 'jose';
import { authenticateClient } from './client-authentication.js';
import type { ClientAuthenticationContext } from './client-authentication.js';
import { errorAnswer, type TokenEndpointAnswer } from './token-endpoint.js';
import type { BodyParseResult } from './token-request-body.js';
import { LOCAL_ISSUER_ALGORITHMS, type KeyRing } from './key-ring.js';
import type { OpaqueTokenStore } from './opaque-tokens.js';
import type { TokenSigner } from './token-signer.js';

/** What the introspection endpoint needs from the issuer. */
export interface IntrospectionEndpointContext extends ClientAuthenticationContext {
  /** The claims of a token this issuer vouches for (opaque and minted here, or a JWT it signed), else `undefined`. */
  claimsOf(token: string): Promise<Readonly<Record<string, unknown>> | undefined>;
  isRevoked(token: string): boolean;
  /** Signs an answer for the caller `clientId` (RFC 9701). */
  signAnswer(answer: Record<string, unknown>, clientId: string): Promise<string>;
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
const JWT_MEDIA_TYPE = 'application/token-introspection+jwt';

function wantsJwt(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => part.split(';')[0]!.trim().toLowerCase() === JWT_MEDIA_TYPE);
}

/** The answer for a token at `now` (seconds). */
async function answerFor(context: IntrospectionEndpointContext, token: string, now: number): Promise<Record<string, unknown>> {
  if (context.isRevoked(token)) return { active: false };
  const claims = await context.claimsOf(token);
  if (claims === undefined) return { active: false };
  if (typeof claims.exp === 'number' && claims.exp <= now) return { active: false };
  if (typeof claims.nbf === 'number' && claims.nbf > now) return { active: false };
  return { active: true, ...claims };
}

/** Handles one introspection request (already read, size-checked and parsed). Never throws. */
export async function handleIntrospectionRequest(
  context: IntrospectionEndpointContext,
  authorization: string | undefined,
  accept: string | undefined,
  parsed: BodyParseResult,
): Promise<TokenEndpointAnswer> {
  if (!parsed.ok) return errorAnswer({ status: 400, error: 'invalid_request', description: parsed.description });
  const authenticated = await authenticateClient(context, authorization, parsed.params);
  if (!authenticated.ok) return errorAnswer(authenticated.answer);
  const token = parsed.params.get('token')?.[0];
  if (token === undefined || token === '') return errorAnswer({ status: 400, error: 'invalid_request', description: 'token is required' });
  const answer = await answerFor(context, token, context.now());
  if (wantsJwt(accept)) {
    return {
      status: 200,
      headers: { ...NO_STORE, 'content-type': JWT_MEDIA_TYPE },
      body: await context.signAnswer(answer, authenticated.client.clientId),
    };
  }
  return { status: 200, headers: { ...NO_STORE, 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(answer) };
}

/** The introspection context of the issuer `parts.issuer`: its opaque tokens and its own JWTs, answers signed with its keys. */
export function issuerIntrospectionContext(
  tokenContext: ClientAuthenticationContext,
  parts: { issuer: string; opaque: OpaqueTokenStore; ring: KeyRing; signer: TokenSigner; now: () => number },
): IntrospectionEndpointContext {
  const { issuer, opaque, ring, signer, now } = parts;
  return {
    ...tokenContext,
    async claimsOf(token) {
      const known = opaque.lookup(token);
      if (known !== undefined) return known;
      // A JWT of this issuer: its claims when its signature, issuer and times check out.
      try {
        const { payload } = await jwtVerify(token, createLocalJWKSet(ring.jwks()), {
          issuer, currentDate: new Date(now()), algorithms: [...LOCAL_ISSUER_ALGORITHMS],
        });
        return payload as Record<string, unknown>;
      } catch {
        return undefined;
      }
    },
    isRevoked: (token) => opaque.isRevoked(token),
    signAnswer: (answer, clientId) => signer.sign(
      { iss: issuer, aud: clientId, iat: Math.floor(now() / 1000), token_introspection: answer },
      { noDefaults: true, header: { typ: 'token-introspection+jwt' } },
    ),
  };
}
