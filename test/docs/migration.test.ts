/**
 * docs/migration.md "Behaviour differences": the table says how express-oauth2-jwt-bearer,
 * express-jwt + jwks-rsa and express-m2m answer the same requests. This test reads the table and
 * sends each request (an Authorization header, and for one row a query string) to the three,
 * configured alike against one local issuer (the peers are dev dependencies), so the table stays
 * true when a peer changes. Each cell's status must match, and
 * so must the codes it quotes: the peer's `code` (Auth0: `invalid_token`, `''` for "no error
 * code"; express-jwt: `credentials_required`, ...), express-m2m's `ERR_...` code and OAuth error.
 */
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import { auth, claimEquals as auth0ClaimEquals } from 'express-oauth2-jwt-bearer';
import { expressjwt } from 'express-jwt';
import jwksRsa from 'jwks-rsa';
import { BearerError, claimEquals, requireAuth } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { readDoc, section } from '../docs-support.js';

const AUDIENCE = 'https://orders.example.com';
type Peer = 'auth0' | 'expressJwt' | 'm2m';
const PEERS: readonly Peer[] = ['auth0', 'expressJwt', 'm2m'];
/** The error names a cell may quote (other quoted words are explanations, e.g. `typ`). */
const ERROR_NAMES = new Set([
  'invalid_request', 'invalid_token', 'insufficient_scope', 'temporarily_unavailable',
  'credentials_required', 'credentials_bad_scheme', 'credentials_bad_format', 'revoked_token',
]);

interface Answer {
  status: number;
  /** The peer's `code` (express-m2m: the `ERR_...` code). */
  code: string | undefined;
  /** The OAuth error of express-m2m's JSON body. */
  error: string | undefined;
  headers: Headers;
}

/** Answers every error as JSON with what the cells quote, as the table says ("a JSON error handler"). */
const jsonErrors: ErrorRequestHandler = (err: { status?: number; code?: string; headers?: Record<string, string> }, _req, res, _next) => {
  const error = err instanceof BearerError ? err.toJSON().error : undefined;
  res.status(err.status ?? 500).set(err.headers ?? {}).json({ code: err.code, error });
};

function app(peer: Peer, issuer: LocalIssuer): express.Express {
  const result = express();
  if (peer === 'auth0') {
    result.use(auth({ issuerBaseURL: issuer.url, audience: AUDIENCE }));
    result.get('/orders', auth0ClaimEquals('org_id', 'acme'), (_req, res) => { res.json({}); });
  } else if (peer === 'expressJwt') {
    result.use(expressjwt({
      secret: jwksRsa.expressJwtSecret({ jwksUri: issuer.jwksUri, cache: true, rateLimit: true }) as never,
      algorithms: ['RS256'],
      issuer: issuer.issuer,
      audience: AUDIENCE,
    }));
    result.get('/orders', (_req, res) => { res.json({}); });
  } else {
    result.use(requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE }));
    result.get('/orders', claimEquals('org_id', 'acme'), (_req, res) => { res.json({}); });
  }
  result.use(jsonErrors);
  return result;
}

async function ask(peer: Peer, issuer: LocalIssuer, authorization: string | undefined, query = ''): Promise<Answer> {
  const server = app(peer, issuer).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/orders${query}`, {
      headers: authorization === undefined ? {} : { authorization },
    });
    const body = (await response.json()) as { code?: string; error?: string };
    return { status: response.status, code: body.code, error: body.error, headers: response.headers };
  } finally {
    server.close();
  }
}

/** The table's rows: the request (first cell) and the three answers. */
function rows(): { request: string; cells: Record<Peer, string> }[] {
  const table = section(readDoc('docs/migration.md'), 'Behaviour differences').split('\n').filter((line) => line.startsWith('|'));
  expect(table[0]).toBe('| Request | express-oauth2-jwt-bearer | express-jwt + jwks-rsa | express-m2m |');
  return table.slice(2).map((line) => {
    const [request, auth0Cell, expressJwtCell, m2mCell] = line.slice(2, -2).split(' | ') as [string, string, string, string];
    return { request, cells: { auth0: auth0Cell, expressJwt: expressJwtCell, m2m: m2mCell } };
  });
}

/**
 * The same token spelled another way: the last character of its signature with one of its unused
 * low bits flipped: when a base64url segment's length is not a multiple of 4, the lowest bits of
 * its last character carry no data (the local issuer's 256-byte RS256 signatures have 4 such
 * bits). Decoders that ignore those bits (jose's, node's) read the same signature.
 */
function respelled(token: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(token.at(-1) as string);
  return `${token.slice(0, -1)}${alphabet[last ^ 1] as string}`;
}

let issuer: LocalIssuer;
let down: LocalIssuer;
/** The Authorization header of each row, by the row's first cell. */
let requests: Record<string, string | undefined>;
/** The query string of the rows that send one. */
let queries: Record<string, string>;

beforeAll(async () => {
  [issuer, down] = await Promise.all([createLocalIssuer(), createLocalIssuer()]);
  down.setFault('jwks', { status: 500 });
  const token = (claims: Record<string, unknown>, from = issuer) => from.accessToken({ audience: AUDIENCE, claims });
  const good = await token({ org_id: 'acme' });
  requests = {
    'no `Authorization` header': undefined,
    '`Authorization: Basic ...`': 'Basic b3JkZXJzOnNlY3JldA==',
    '`Authorization: Bearer ` (empty)': 'Bearer ',
    'a valid token failing a claim check': `Bearer ${await token({ org_id: 'other' })}`,
    'a token with `cnf.jkt` (DPoP-bound) as Bearer': `Bearer ${await token({ org_id: 'acme', cnf: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } })}`,
    'a token with `cnf["x5t#S256"]` (certificate-bound) as Bearer': `Bearer ${await token({ org_id: 'acme', cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } })}`,
    '`typ: "foo"`': `Bearer ${await issuer.sign({ sub: 'orders@clients', aud: AUDIENCE, org_id: 'acme' }, { header: { typ: 'foo' } })}`,
    'a token without `exp`': `Bearer ${await issuer.sign({ sub: 'orders@clients', aud: AUDIENCE, org_id: 'acme', exp: undefined })}`,
    'a token with `sub: 42` (a number)': `Bearer ${await token({ org_id: 'acme', sub: 42 })}`,
    'a token respelled: its signature\'s last character with other unused bits': `Bearer ${respelled(await token({ org_id: 'acme' }))}`,
    'the token in the header and in `?access_token=`': `Bearer ${good}`,
    'the JWKS answers 500': `Bearer ${await token({ org_id: 'acme' }, down)}`,
  };
  queries = { 'the token in the header and in `?access_token=`': `?access_token=${good}` };
});
afterAll(async () => {
  await Promise.all([issuer.close(), down.close()]);
});

describe('docs/migration.md "Behaviour differences" is how the three libraries answer', () => {
  test('the table has the rows this test can send', () => {
    expect(rows().map((row) => row.request)).toEqual(Object.keys(requests));
  });

  test.each(rows().flatMap((row) => PEERS.map((peer) => [row.request, peer, row.cells[peer]] as const)))(
    '%s, %s: %s',
    async (request, peer, cell) => {
      if (cell === '(no claim checks)') return; // express-jwt has no claim guard to ask
      const answer = await ask(peer, request === 'the JWKS answers 500' ? down : issuer, requests[request], queries[request]);
      expect(answer.status).toBe(Number(/^\d{3}/.exec(cell)?.[0]));
      const quoted = [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1] as string);
      if (peer === 'm2m') {
        for (const code of quoted.filter((text) => text.startsWith('ERR_'))) expect(answer.code).toBe(code);
        for (const error of quoted.filter((text) => ERROR_NAMES.has(text))) expect(answer.error).toBe(error);
        if (quoted.includes('WWW-Authenticate: Bearer')) expect(answer.headers.get('www-authenticate')).toBe('Bearer');
        if (quoted.includes('Retry-After')) expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      } else {
        for (const code of quoted.filter((text) => ERROR_NAMES.has(text))) expect(answer.code).toBe(code);
        if (cell.includes('no error code')) expect(answer.code).toBe('');
      }
    },
    20_000,
  );
});
