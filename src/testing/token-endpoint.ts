/**
 * Internal: the `client_credentials` grant of the local issuer's token endpoint (RFC 6749
 * section 4.4), with RFC 6749 section 5.2 errors, Auth0's `audience` and RFC 8707's `resource`.
 */
import { authenticateClient } from './client-authentication.js';
import type { ClientAuthenticationContext, OAuthErrorAnswer } from './client-authentication.js';
import type { RegisteredClient } from './client-registry.js';
import type { LocalDpop } from './dpop-token-request.js';
import type { PresentedCertificate } from './mtls.js';
import type { BodyParseResult, ParsedParams } from './token-request-body.js';

/** An HTTP answer of the token endpoint. */
export interface TokenEndpointAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What the token endpoint needs from the issuer. */
export interface TokenEndpointContext extends ClientAuthenticationContext {
  /** Mints the access token for an authenticated client. */
  mint(client: RegisteredClient, audience: string | string[], scope: string, lifetime: number, claims?: Record<string, unknown>): Promise<string>;
  tokenLifetime: number;
  /** DPoP proofs of token requests (RFC 9449 section 5). */
  dpop: LocalDpop;
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache', 'content-type': 'application/json; charset=utf-8' };

/** An RFC 6749 section 5.2 error response. */
export function errorAnswer(answer: OAuthErrorAnswer): TokenEndpointAnswer {
  return {
    status: answer.status,
    headers: { ...NO_STORE, ...answer.headers },
    body: JSON.stringify({ error: answer.error, error_description: answer.description }),
  };
}

function fail(status: number, error: string, description: string): TokenEndpointAnswer {
  return errorAnswer({ status, error, description });
}

function isAbsoluteUriWithoutFragment(value: string): boolean {
  try {
    const url = new URL(value);
    return url.hash === '' && !value.includes('#');
  } catch {
    return false;
  }
}

/**
 * The audiences of the token: `audience` (Auth0) and every `resource` (RFC 8707); each must be
 * one the client is registered for (else `invalid_target`); none requested -> the client's first.
 */
function targetOf(client: RegisteredClient, params: ParsedParams): { ok: true; aud: string | string[] } | { ok: false; answer: TokenEndpointAnswer } {
  const resources = params.get('resource') ?? [];
  for (const resource of resources) {
    if (!isAbsoluteUriWithoutFragment(resource)) {
      return { ok: false, answer: fail(400, 'invalid_target', 'resource must be an absolute URI without a fragment') };
    }
  }
  const audience = params.get('audience')?.[0];
  const requested = [...new Set([...(audience !== undefined && audience !== '' ? [audience] : []), ...resources])];
  if (requested.length === 0) return { ok: true, aud: client.audiences[0]! };
  const refused = requested.find((target) => !client.audiences.includes(target));
  if (refused !== undefined) {
    return {
      ok: false,
      answer: fail(400, 'invalid_target', `the client is not authorized for audience ${JSON.stringify(refused)}`),
    };
  }
  return { ok: true, aud: requested.length === 1 ? requested[0]! : requested };
}

/** Granted scope: the requested one when all of it is allowed; all allowed scopes when none is requested. */
function scopeOf(client: RegisteredClient, params: ParsedParams): { ok: true; scope: string } | { ok: false; answer: TokenEndpointAnswer } {
  const requested = params.get('scope')?.[0];
  if (requested === undefined) return { ok: true, scope: client.scopes.join(' ') };
  const scopes = [...new Set(requested.split(' ').filter((scope) => scope !== ''))];
  const refused = scopes.filter((scope) => !client.scopes.includes(scope));
  if (refused.length > 0) {
    return { ok: false, answer: fail(400, 'invalid_scope', `scope not allowed for this client: ${refused.join(' ')}`) };
  }
  return { ok: true, scope: scopes.join(' ') };
}

/** What a token request brings besides its body: where it was sent, its DPoP proofs, and at the mTLS alias the client's certificate. */
export interface PresentedProofs {
  /** The URL the request was sent to (the token endpoint or its mTLS alias): the `htu` of its DPoP proof. */
  readonly url: string;
  /** Every `DPoP` header line (RFC 9449 section 5). */
  readonly dpopProofs: readonly string[];
  /** At the mTLS endpoint, the client's certificate (it binds the token, RFC 8705 section 3). */
  readonly certificate?: PresentedCertificate | undefined;
}

/** Handles one token request (already read, size-checked and parsed). Never throws. */
export async function handleTokenRequest(
  context: TokenEndpointContext,
  authorization: string | undefined,
  parsed: BodyParseResult,
  presented: PresentedProofs,
): Promise<TokenEndpointAnswer> {
  if (!parsed.ok) return fail(400, 'invalid_request', parsed.description);
  const params = parsed.params;
  const { certificate } = presented;
  const authenticated = await authenticateClient(context, authorization, params, certificate);
  if (!authenticated.ok) return errorAnswer(authenticated.answer);
  const grantType = params.get('grant_type')?.[0];
  if (grantType === undefined || grantType === '') return fail(400, 'invalid_request', 'grant_type is required');
  if (grantType !== 'client_credentials') {
    return fail(400, 'unsupported_grant_type', 'only the client_credentials grant is supported');
  }
  const client = authenticated.client;
  const target = targetOf(client, params);
  if (!target.ok) return target.answer;
  const scope = scopeOf(client, params);
  if (!scope.ok) return scope.answer;
  const dpop = context.dpop.check(client, presented.dpopProofs, presented.url);
  if (!dpop.ok) return errorAnswer(dpop.answer);
  const lifetime = client.tokenLifetime ?? context.tokenLifetime;
  // Bound to the DPoP key (RFC 9449 section 6.1) and/or the client certificate (RFC 8705 section 3.1).
  const cnf: Record<string, string> = {};
  if (dpop.jkt !== undefined) cnf.jkt = dpop.jkt;
  if (certificate !== undefined) cnf['x5t#S256'] = certificate.thumbprint;
  const accessToken = await context.mint(client, target.aud, scope.scope, lifetime, Object.keys(cnf).length === 0 ? undefined : { cnf });
  return {
    status: 200,
    headers: { ...NO_STORE, ...dpop.headers },
    body: JSON.stringify({ access_token: accessToken, token_type: dpop.jkt === undefined ? 'Bearer' : 'DPoP', expires_in: lifetime, scope: scope.scope }),
  };
}
