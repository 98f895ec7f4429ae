/**
 * Servers of the DPoP tests, real node:http servers on 127.0.0.1, that check every proof they get
 * themselves (jose's `jwtVerify` with `EmbeddedJWK`, plus `htm`, `htu`, `ath`, `iat`, `jti` and
 * nonce checks of RFC 9449 section 4.3), independently of the code under test:
 *
 * - an authorization server whose token endpoint issues JWT access tokens bound to the proof's key
 *   (`cnf.jkt`), with knobs for what oidc-provider cannot be made to do (answer Bearer, send a new
 *   nonce with every answer);
 * - a resource server that wants `Authorization: DPoP` with a proof for its own URL and the token.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { calculateJwkThumbprint, decodeJwt, EmbeddedJWK, generateKeyPair, jwtVerify, SignJWT, type JWK } from 'jose';

export interface CheckedProof {
  header: { typ?: string; alg?: string; jwk?: JWK };
  claims: Record<string, unknown>;
  /** RFC 7638 thumbprint of the proof's key. */
  jkt: string;
  raw: string;
}

/** Why a proof is not good for `method` `url` (RFC 9449 section 4.3), or the checked proof. */
export async function checkProof(
  proof: string | string[] | undefined,
  method: string,
  url: string,
  expect: { accessToken?: string; nonce?: string; seen: Set<string> },
): Promise<CheckedProof | { problem: string; nonceProblem?: boolean }> {
  if (typeof proof !== 'string') return { problem: 'not exactly one DPoP header' };
  let verified;
  try {
    verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'PS256'] });
  } catch (error) {
    return { problem: `signature/typ: ${(error as Error).message}` };
  }
  const { payload: claims, protectedHeader: header } = verified;
  const jwk = header.jwk as JWK;
  if (['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((member) => member in jwk)) return { problem: 'private members in jwk' };
  if (claims.htm !== method) return { problem: `htm ${String(claims.htm)} != ${method}` };
  const target = new URL(url);
  target.search = '';
  target.hash = '';
  if (claims.htu !== target.href) return { problem: `htu ${String(claims.htu)} != ${target.href}` };
  if (typeof claims.iat !== 'number' || Math.abs(claims.iat - Date.now() / 1000) > 60) return { problem: 'iat' };
  if (typeof claims.jti !== 'string' || claims.jti.length < 16) return { problem: 'jti' };
  if (expect.seen.has(claims.jti)) return { problem: 'replayed jti' };
  expect.seen.add(claims.jti);
  if (expect.accessToken !== undefined) {
    const ath = createHash('sha256').update(expect.accessToken).digest('base64url');
    if (claims.ath !== ath) return { problem: 'ath' };
  }
  if (expect.nonce !== undefined && claims.nonce !== expect.nonce) return { problem: 'nonce', nonceProblem: true };
  return { header: header as CheckedProof['header'], claims: claims as Record<string, unknown>, jkt: await calculateJwkThumbprint(jwk), raw: proof };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
}

/** What the test authorization server saw of one token request. */
export interface TokenRequestRecord {
  proof: CheckedProof | undefined;
  problem: string | undefined;
  status: number;
}

export interface TestAuthorizationServer {
  url: string;
  tokenEndpoint: string;
  requests: TokenRequestRecord[];
  /** Verifies an access token it issued; its claims. */
  verify(token: string): Promise<Record<string, unknown>>;
  /** Knobs (reset with `reset()`). */
  settings: {
    /** Answer `token_type: Bearer` without `cnf` whatever was sent. */
    bearer: boolean;
    /** Leave `token_type` out of the answer (RFC 6749 section 5.1 requires it; some servers do not send it). */
    omitTokenType: boolean;
    /** Require a nonce: the current one is `nonce`. */
    requireNonce: boolean;
    /** Send a new `DPoP-Nonce` with every answer. */
    rotateNonce: boolean;
    /** Refuse every nonce as stale (use_dpop_nonce with a new one). */
    staleNonces: boolean;
    /** Answer every request with this status and body (e.g. a 503), with a new nonce when rotating. */
    fail: { status: number; body: unknown } | undefined;
  };
  nonce: string;
  reset(): void;
  close(): Promise<void>;
}

export const CLIENT_ID = 'dpop-client';
export const CLIENT_SECRET = 'dpop-client-secret-0123456789';

export async function startAuthorizationServer(): Promise<TestAuthorizationServer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const seen = new Set<string>();
  let counter = 0;
  const defaults = () => ({ bearer: false, omitTokenType: false, requireNonce: false, rotateNonce: false, staleNonces: false, fail: undefined });
  const state: TestAuthorizationServer = {
    url: '',
    tokenEndpoint: '',
    requests: [],
    settings: defaults(),
    nonce: 'nonce-0',
    async verify(token) {
      return (await jwtVerify(token, publicKey, { issuer: state.url })).payload as Record<string, unknown>;
    },
    reset() {
      state.requests.length = 0;
      state.settings = defaults();
      state.nonce = 'nonce-0';
    },
    async close() {
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const nextNonce = () => {
    counter += 1;
    state.nonce = `nonce-${counter}`;
    return state.nonce;
  };
  const server = createServer(async (request, response) => {
    const body = new URLSearchParams(await readBody(request));
    const { settings } = state;
    const record: TokenRequestRecord = { proof: undefined, problem: undefined, status: 200 };
    state.requests.push(record);
    const answer = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      json(response, status, value, settings.rotateNonce ? { 'dpop-nonce': nextNonce(), ...headers } : headers);
    };
    const expected = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;
    if (request.headers.authorization !== expected || body.get('grant_type') !== 'client_credentials') {
      answer(401, { error: 'invalid_client' });
      return;
    }
    const sentNonce = settings.staleNonces ? nextNonce() : state.nonce;
    const checked = request.headers.dpop === undefined ? undefined
      : await checkProof(request.headers.dpop, 'POST', state.tokenEndpoint, { seen, nonce: settings.requireNonce ? sentNonce : undefined });
    if (checked !== undefined && 'problem' in checked) {
      record.problem = checked.problem;
      if (checked.nonceProblem === true) {
        answer(400, { error: 'use_dpop_nonce', error_description: 'Authorization server requires nonce in DPoP proof' },
          settings.rotateNonce ? {} : { 'dpop-nonce': sentNonce });
      } else {
        answer(400, { error: 'invalid_dpop_proof', error_description: checked.problem });
      }
      return;
    }
    record.proof = checked;
    if (settings.fail !== undefined) {
      answer(settings.fail.status, settings.fail.body);
      return;
    }
    const bound = checked !== undefined && !settings.bearer;
    const jwt = new SignJWT({ client_id: CLIENT_ID, ...(bound ? { cnf: { jkt: checked.jkt } } : {}) })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
      .setIssuer(state.url)
      .setSubject(CLIENT_ID)
      .setAudience(body.get('audience') ?? 'https://api.example')
      .setJti(`at-${state.requests.length}-${Math.random().toString(36).slice(2)}`)
      .setIssuedAt()
      .setExpirationTime('1h');
    answer(200, { access_token: await jwt.sign(privateKey), token_type: settings.omitTokenType ? undefined : bound ? 'DPoP' : 'Bearer', expires_in: 3600 });
  });
  state.url = await listen(server);
  state.tokenEndpoint = `${state.url}/oauth/token`;
  return state;
}

/** What the test resource server saw of one request. */
export interface ResourceRequestRecord {
  method: string;
  path: string;
  authorization: string | undefined;
  proof: CheckedProof | undefined;
  problem: string | undefined;
  status: number;
}

export interface TestResourceServer {
  url: string;
  requests: ResourceRequestRecord[];
  settings: {
    requireNonce: boolean;
    /** Refuse every nonce as stale (use_dpop_nonce with a new one). */
    staleNonces: boolean;
    /** Tokens refused with `DPoP error="invalid_token"`. */
    refuse: Set<string>;
  };
  nonce: string;
  /** Rotates the nonce (the next proof with the old one is refused). */
  rotate(): string;
  reset(): void;
  close(): Promise<void>;
}

/**
 * A resource server that wants DPoP: a token of `issuer` bound (`cnf.jkt`) to the proof's key and
 * a proof for its own URL. `/redirect` answers 307 to `/target`.
 */
export async function startResourceServer(issuer: { verify(token: string): Promise<Record<string, unknown>> } | undefined): Promise<TestResourceServer> {
  const seen = new Set<string>();
  let counter = 0;
  const state: TestResourceServer = {
    url: '',
    requests: [],
    settings: { requireNonce: false, staleNonces: false, refuse: new Set() },
    nonce: 'rs-nonce-0',
    rotate() {
      counter += 1;
      state.nonce = `rs-nonce-${counter}`;
      return state.nonce;
    },
    reset() {
      state.requests.length = 0;
      state.settings = { requireNonce: false, staleNonces: false, refuse: new Set() };
    },
    async close() {
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    const record: ResourceRequestRecord = {
      method: request.method ?? '', path: request.url ?? '', authorization: request.headers.authorization, proof: undefined, problem: undefined, status: 200,
    };
    state.requests.push(record);
    const refuse = (error: string, extra: Record<string, string> = {}) => {
      record.status = 401;
      response.writeHead(401, { 'www-authenticate': `DPoP algs="ES256 EdDSA", error="${error}"`, ...extra }).end();
    };
    const match = /^DPoP (\S+)$/.exec(request.headers.authorization ?? '');
    if (match === null) {
      refuse('invalid_token');
      return;
    }
    const token = match[1]!;
    if (state.settings.staleNonces) state.rotate();
    const checked = await checkProof(request.headers.dpop, request.method ?? '', `${state.url}${request.url ?? ''}`, {
      accessToken: token, seen, nonce: state.settings.requireNonce ? state.nonce : undefined,
    });
    if ('problem' in checked) {
      record.problem = checked.problem;
      if (checked.nonceProblem === true) refuse('use_dpop_nonce', { 'dpop-nonce': state.nonce });
      else refuse('invalid_dpop_proof');
      return;
    }
    record.proof = checked;
    const claims = issuer === undefined ? decodeJwt(token) as Record<string, unknown> : await issuer.verify(token).catch(() => undefined);
    const cnf = claims?.cnf as { jkt?: string } | undefined;
    if (cnf?.jkt !== checked.jkt || state.settings.refuse.has(token)) {
      refuse('invalid_token');
      return;
    }
    if (request.url === '/redirect') {
      record.status = 307;
      response.writeHead(307, { location: '/target' }).end();
      return;
    }
    json(response, 200, { ok: true, path: request.url, body });
  });
  state.url = await listen(server);
  return state;
}
