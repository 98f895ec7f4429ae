/**
 * Internal: token endpoint client authentication (RFC 6749 section 2.3): `client_secret_basic`
 * (with the section 2.3.1 form-encoding of id and secret), `client_secret_post`, and
 * `private_key_jwt` (RFC 7523 section 2.2 / OIDC Core section 9).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { decodeJwt, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import type { RegisteredClient } from './client-registry.js';
import { certificateMatches, type PresentedCertificate } from './mtls.js';
import type { ParsedParams } from './token-request-body.js';
import { LOCAL_ISSUER_ALGORITHMS } from './key-ring.js';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export type ClientAuthenticationMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'tls_client_auth' | 'self_signed_tls_client_auth';

/** An RFC 6749 section 5.2 error answer. */
export interface OAuthErrorAnswer {
  status: number;
  error: string;
  description: string;
  headers?: Record<string, string>;
}

export type ClientAuthenticationResult =
  | { ok: true; client: RegisteredClient; method: ClientAuthenticationMethod }
  | { ok: false; answer: OAuthErrorAnswer };

/** What client authentication needs from the issuer. */
export interface ClientAuthenticationContext {
  findClient(clientId: string): RegisteredClient | undefined;
  /** Accepted `aud` values of a client assertion. */
  assertionAudiences: string[];
  maxAssertionLifetime: number;
  /** Remembers a jti until `expiresAt` (seconds); false when it was already seen. */
  rememberJti(clientId: string, jti: string, expiresAt: number): boolean;
  now(): number;
}

const BASIC_CHALLENGE = { 'www-authenticate': 'Basic realm="local-issuer", charset="UTF-8"' };

function invalidClient(description: string, basic: boolean): ClientAuthenticationResult {
  return {
    ok: false,
    answer: { status: 401, error: 'invalid_client', description, headers: basic ? BASIC_CHALLENGE : undefined },
  };
}

function invalidRequest(description: string): ClientAuthenticationResult {
  return { ok: false, answer: { status: 400, error: 'invalid_request', description } };
}

/** RFC 6749 appendix B decoding (`+` is a space). Undefined when the percent-encoding is broken. */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function secretsEqual(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

function single(params: ParsedParams, name: string): string | undefined {
  return params.get(name)?.[0];
}

function parseBasic(header: string): { clientId: string; clientSecret: string } | undefined {
  const encoded = header.slice(header.indexOf(' ') + 1).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const clientId = formDecode(decoded.slice(0, colon));
  const clientSecret = formDecode(decoded.slice(colon + 1));
  if (clientId === undefined || clientSecret === undefined || clientId === '') return undefined;
  return { clientId, clientSecret };
}

function checkSecret(
  context: ClientAuthenticationContext,
  clientId: string,
  secret: string,
  method: 'client_secret_basic' | 'client_secret_post',
): ClientAuthenticationResult {
  const basic = method === 'client_secret_basic';
  const client = context.findClient(clientId);
  if (!client) return invalidClient('unknown client', basic);
  if (client.clientSecret === undefined) return invalidClient('the client has no secret; use its registered authentication method', basic);
  if (!secretsEqual(client.clientSecret, secret)) return invalidClient('client authentication failed', basic);
  return { ok: true, client, method };
}

async function checkAssertion(
  context: ClientAuthenticationContext,
  params: ParsedParams,
): Promise<ClientAuthenticationResult> {
  const assertionType = single(params, 'client_assertion_type');
  const assertion = single(params, 'client_assertion');
  if (assertionType === undefined || assertion === undefined) {
    return invalidRequest('client_assertion and client_assertion_type must be sent together');
  }
  if (assertionType !== JWT_BEARER_ASSERTION_TYPE) return invalidRequest('unsupported client_assertion_type');
  let unverified: JWTPayload;
  try {
    unverified = decodeJwt(assertion);
  } catch {
    return invalidClient('the client assertion is not a JWT', false);
  }
  const clientId = single(params, 'client_id') ?? (typeof unverified.sub === 'string' ? unverified.sub : undefined);
  if (clientId === undefined) return invalidClient('the client assertion has no sub', false);
  const client = context.findClient(clientId);
  if (!client) return invalidClient('unknown client', false);
  if (client.assertionKey === undefined) return invalidClient('the client has no registered public key', false);
  let payload: JWTPayload;
  try {
    const options = {
      issuer: clientId,
      subject: clientId,
      audience: context.assertionAudiences,
      algorithms: [...LOCAL_ISSUER_ALGORITHMS],
      requiredClaims: ['exp', 'jti'],
      currentDate: new Date(context.now() * 1000),
      clockTolerance: 5,
    };
    const result = typeof client.assertionKey === 'function'
      ? await jwtVerify(assertion, client.assertionKey, options)
      : await jwtVerify(assertion, client.assertionKey, options);
    payload = result.payload;
  } catch (error) {
    const message = (error as { message?: unknown } | null)?.message;
    const reason = typeof message === 'string' ? message : 'verification failed';
    return invalidClient(`client assertion rejected: ${reason}`, false);
  }
  const exp = payload.exp!;
  if (exp - context.now() > context.maxAssertionLifetime) {
    return invalidClient(`client assertion rejected: exp is more than ${context.maxAssertionLifetime} s ahead`, false);
  }
  if (typeof payload.jti !== 'string' || payload.jti === '') return invalidClient('client assertion rejected: jti missing', false);
  if (!context.rememberJti(clientId, payload.jti, exp)) {
    return invalidClient('client assertion rejected: jti already used', false);
  }
  return { ok: true, client, method: 'private_key_jwt' };
}

/** RFC 8705 section 2: the client certificate of the connection, for the client named by `client_id`. */
function checkCertificate(context: ClientAuthenticationContext, params: ParsedParams, certificate: PresentedCertificate): ClientAuthenticationResult {
  const clientId = single(params, 'client_id');
  if (clientId === undefined || clientId === '') return invalidRequest('client_id is required with mutual-TLS client authentication (RFC 8705 section 2)');
  const client = context.findClient(clientId);
  if (!client) return invalidClient('unknown client', false);
  for (const method of ['tls_client_auth', 'self_signed_tls_client_auth'] as const) {
    if (client.tls !== undefined && certificateMatches(client.tls, method, certificate)) return { ok: true, client, method };
  }
  return invalidClient('the client certificate does not authenticate this client', false);
}

/** Authenticates the client of a token request; exactly one method must be used. `certificate`: the client certificate, at the mTLS endpoint. */
export async function authenticateClient(
  context: ClientAuthenticationContext,
  authorization: string | undefined,
  params: ParsedParams,
  certificate?: PresentedCertificate,
): Promise<ClientAuthenticationResult> {
  const usesBasic = authorization !== undefined;
  const usesPost = params.has('client_secret');
  const usesAssertion = params.has('client_assertion') || params.has('client_assertion_type');
  const count = Number(usesBasic) + Number(usesPost) + Number(usesAssertion);
  if (count > 1) return invalidRequest('more than one client authentication method was used');
  if (count === 0 && certificate !== undefined) return checkCertificate(context, params, certificate);
  if (count === 0) {
    return invalidClient('client authentication is required (client_secret_basic, client_secret_post or private_key_jwt)', true);
  }
  if (usesBasic) {
    if (!/^basic /i.test(authorization)) return invalidClient('unsupported Authorization scheme; use Basic', true);
    const credentials = parseBasic(authorization);
    if (!credentials) return invalidClient('malformed Basic credentials', true);
    const bodyClientId = single(params, 'client_id');
    if (bodyClientId !== undefined && bodyClientId !== credentials.clientId) {
      return invalidRequest('client_id in the body does not match the Basic credentials');
    }
    return checkSecret(context, credentials.clientId, credentials.clientSecret, 'client_secret_basic');
  }
  if (usesPost) {
    const clientId = single(params, 'client_id');
    if (clientId === undefined || clientId === '') return invalidRequest('client_id is required with client_secret');
    return checkSecret(context, clientId, single(params, 'client_secret')!, 'client_secret_post');
  }
  return checkAssertion(context, params);
}
