/**
 * Credential extraction (src/inbound/credentials/extract-credentials.ts), the rules the mutation
 * run (docs/mutation-testing.md) found unpinned by extract-credentials.test.ts: the exact code and
 * description of every refusal, `via` of each method, the DPoP scheme (RFC 9449 section 7.1) at
 * the extraction step, explicit `false` policies, the query-token hint, which bodies are forms,
 * and the scheme a refused request presented (for its challenge).
 */
import { BearerError, DpopProofError, InvalidRequestError, MissingTokenError, type InboundRequest } from 'express-m2m';
import { extractCredentials, type CredentialsPolicy } from 'express-m2m/extend';
import { presentedScheme } from '../../../src/inbound/credentials/extract-credentials.js';

/** A refusal's class (any of the BearerError subclasses). */
type ErrorClass = abstract new (...args: never[]) => BearerError;

interface Described {
  headers?: Record<string, string | string[]>;
  target?: string;
  query?: unknown;
  body?: unknown;
  method?: string;
}

function inbound(request: Described): InboundRequest {
  return {
    method: request.method ?? 'GET',
    target: request.target ?? '/',
    query: request.query,
    body: request.body,
    headerLines: (name) => {
      const value = request.headers?.[name];
      return value === undefined ? [] : Array.isArray(value) ? value : [value];
    },
  };
}

function refusal(request: Described, policy?: CredentialsPolicy): BearerError {
  try {
    extractCredentials(inbound(request), policy);
  } catch (error) {
    expect(error).toBeInstanceOf(BearerError);
    return error as BearerError;
  }
  throw new Error('expected a refusal');
}

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2ln';
const PROOF = 'eyJ0eXAiOiJkcG9wK2p3dCJ9.eyJodG0iOiJHRVQifQ.cHJvb2Y';
const FORM = 'application/x-www-form-urlencoded';
const form = (body: unknown, method = 'POST', contentType = FORM): Described => ({ method, body, headers: { 'content-type': contentType } });

describe('every refusal: its class, status, code and description', () => {
  const MULTIPLE = 'the access token was sent by more than one method; use exactly one';
  test.each<[string, Described, CredentialsPolicy, ErrorClass, number, string | undefined, string]>([
    ['no header', {}, {}, MissingTokenError, 401, undefined, 'no access token in the request'],
    ['an empty header', { headers: { authorization: '' } }, {}, MissingTokenError, 401, undefined, 'no access token in the request'],
    ['another scheme', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }, {}, MissingTokenError, 401, undefined, 'the Authorization header does not use the Bearer scheme'],
    // A six-letter scheme followed by a space is not Bearer either.
    ['the Digest scheme', { headers: { authorization: 'Digest abc' } }, {}, MissingTokenError, 401, undefined, 'the Authorization header does not use the Bearer scheme'],
    ['another scheme, DPoP on', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }, { dpopScheme: 'allowed' }, MissingTokenError, 401, undefined,
      'the Authorization header uses neither the Bearer nor the DPoP scheme'],
    // A control character after something that only ends in "bearer" is another scheme, not a separator mistake.
    ['Xbearer and a tab', { headers: { authorization: `Xbearer\t${TOKEN}` } }, {}, MissingTokenError, 401, undefined, 'the Authorization header does not use the Bearer scheme'],
    ['bearer and a tab after another word', { headers: { authorization: `Basic bearer\t${TOKEN}` } }, {}, MissingTokenError, 401, undefined,
      'the Authorization header does not use the Bearer scheme'],
    ['two Authorization headers', { headers: { authorization: [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`] } }, {}, InvalidRequestError, 400, 'ERR_TOKEN_MULTIPLE_HEADERS',
      'the request has more than one Authorization header'],
    ['an empty Bearer credential', { headers: { authorization: 'Bearer' } }, {}, InvalidRequestError, 400, 'ERR_TOKEN_EMPTY', 'the Bearer credentials are empty'],
    ['a malformed Bearer credential', { headers: { authorization: 'Bearer a b' } }, {}, InvalidRequestError, 400, 'ERR_TOKEN_MALFORMED_HEADER',
      'the Bearer credentials must be exactly one token of the b64token syntax (RFC 6750 section 2.1)'],
    ['header and query', { headers: { authorization: `Bearer ${TOKEN}` }, query: { access_token: TOKEN } }, { allowQueryToken: true }, InvalidRequestError, 400,
      'ERR_TOKEN_MULTIPLE_METHODS', MULTIPLE],
    ['header and a URL token, query tokens off', { headers: { authorization: `Bearer ${TOKEN}` }, target: `/o?access_token=${TOKEN}` }, {}, InvalidRequestError, 400,
      'ERR_TOKEN_MULTIPLE_METHODS', MULTIPLE],
    ['an empty query token', { query: { access_token: '' } }, { allowQueryToken: true }, InvalidRequestError, 400, 'ERR_TOKEN_EMPTY',
      'the access_token parameter in the query string is empty'],
    ['a malformed query token', { query: { access_token: 'a b' } }, { allowQueryToken: true }, InvalidRequestError, 400, 'ERR_TOKEN_MALFORMED_PARAMETER',
      'the access_token parameter in the query string is not a single b64token'],
    ['a repeated query token', { query: { access_token: ['a', 'b'] } }, { allowQueryToken: true }, InvalidRequestError, 400, 'ERR_TOKEN_REPEATED_PARAMETER',
      'the access_token parameter is repeated in the query string'],
    ['a query token that is an object', { query: { access_token: { a: 1 } } }, { allowQueryToken: true }, InvalidRequestError, 400, 'ERR_TOKEN_MALFORMED_PARAMETER',
      'the access_token parameter in the query string must be a string'],
    ['an empty body token', form({ access_token: '' }), { allowBodyToken: true }, InvalidRequestError, 400, 'ERR_TOKEN_EMPTY',
      'the access_token parameter in the request body is empty'],
    ['a malformed body token', form({ access_token: 'a b' }), { allowBodyToken: true }, InvalidRequestError, 400, 'ERR_TOKEN_MALFORMED_PARAMETER',
      'the access_token parameter in the request body is not a single b64token'],
    ['a repeated body token', form({ access_token: ['a', 'b'] }), { allowBodyToken: true }, InvalidRequestError, 400, 'ERR_TOKEN_REPEATED_PARAMETER',
      'the access_token parameter is repeated in the request body'],
    ['a body token that is a number', form({ access_token: 7 }), { allowBodyToken: true }, InvalidRequestError, 400, 'ERR_TOKEN_MALFORMED_PARAMETER',
      'the access_token parameter in the request body must be a string'],
  ])('%s', (_name, request, policy, kind, status, code, description) => {
    const error = refusal(request, policy);
    expect(error).toBeInstanceOf(kind);
    expect(error.status).toBe(status);
    if (code !== undefined) expect(error.code).toBe(code);
    expect(error.message).toBe(description);
  });
});

describe('how the token came: via', () => {
  test('header, query, body', () => {
    expect(extractCredentials(inbound({ headers: { authorization: `Bearer ${TOKEN}` } }))).toEqual({ scheme: 'Bearer', token: TOKEN, via: 'header' });
    expect(extractCredentials(inbound({ query: { access_token: TOKEN } }), { allowQueryToken: true })).toEqual({ scheme: 'Bearer', token: TOKEN, via: 'query' });
    expect(extractCredentials(inbound(form({ access_token: TOKEN })), { allowBodyToken: true })).toEqual({ scheme: 'Bearer', token: TOKEN, via: 'body' });
  });
});

describe('the DPoP scheme at extraction (RFC 9449 section 7.1)', () => {
  const dpop = (authorization: string | string[], proof?: string | string[]): Described => ({ headers: { authorization, ...(proof === undefined ? {} : { dpop: proof }) } });

  test('with DPoP on: the token and the one DPoP header (trimmed), any case of the scheme, several spaces', () => {
    for (const scheme of ['DPoP', 'dpop', 'DPOP']) {
      expect(extractCredentials(inbound(dpop(`${scheme}   ${TOKEN}`, `  ${PROOF} `)), { dpopScheme: 'allowed' }))
        .toEqual({ scheme: 'DPoP', token: TOKEN, via: 'header', proof: PROOF });
    }
    expect(extractCredentials(inbound(dpop(`  DPoP ${TOKEN}  `, PROOF)), { dpopScheme: 'required' })).toMatchObject({ scheme: 'DPoP', token: TOKEN });
  });

  test('with DPoP off the DPoP scheme is another scheme: a 401 without error code', () => {
    const error = refusal(dpop(`DPoP ${TOKEN}`, PROOF));
    expect(error).toBeInstanceOf(MissingTokenError);
    expect(error.message).toBe('the Authorization header does not use the Bearer scheme');
  });

  test('"required" refuses Bearer (401, says to use DPoP); "allowed" takes it', () => {
    const error = refusal({ headers: { authorization: `Bearer ${TOKEN}` } }, { dpopScheme: 'required' });
    expect(error).toBeInstanceOf(MissingTokenError);
    expect(error.status).toBe(401);
    expect(error.message).toBe('this API accepts only DPoP-bound access tokens: use the DPoP scheme with a DPoP proof (RFC 9449)');
    expect(extractCredentials(inbound({ headers: { authorization: `Bearer ${TOKEN}` } }), { dpopScheme: 'allowed' })).toEqual({ scheme: 'Bearer', token: TOKEN, via: 'header' });
  });

  test.each<[string, Described, ErrorClass, string | undefined, string]>([
    ['no DPoP header', dpop(`DPoP ${TOKEN}`), DpopProofError, 'ERR_DPOP_PROOF_MISSING', 'the DPoP scheme needs a DPoP header with the proof'],
    ['two DPoP headers', dpop(`DPoP ${TOKEN}`, [PROOF, PROOF]), DpopProofError, 'ERR_DPOP_PROOF_MULTIPLE', 'the request has more than one DPoP header'],
    ['an empty DPoP credential', dpop('DPoP', PROOF), InvalidRequestError, 'ERR_TOKEN_EMPTY', 'the DPoP credentials are empty'],
    ['DPoP and spaces only', dpop('DPoP    ', PROOF), InvalidRequestError, 'ERR_TOKEN_EMPTY', 'the DPoP credentials are empty'],
    ['two tokens', dpop(`DPoP ${TOKEN} ${TOKEN}`, PROOF), InvalidRequestError, 'ERR_TOKEN_MALFORMED_HEADER',
      'the DPoP credentials must be exactly one token of the token68 syntax (RFC 9449 section 7.1)'],
    ['a scheme that starts with DPoP', dpop(`DPoPx ${TOKEN}`, PROOF), MissingTokenError, undefined, 'the Authorization header uses neither the Bearer nor the DPoP scheme'],
    ['a tab after DPoP', dpop(`DPoP\t${TOKEN}`, PROOF), MissingTokenError, undefined, 'the Authorization header uses neither the Bearer nor the DPoP scheme'],
    ['a short header', dpop('DPo', PROOF), MissingTokenError, undefined, 'the Authorization header uses neither the Bearer nor the DPoP scheme'],
    ['two Authorization headers', dpop([`DPoP ${TOKEN}`, `DPoP ${TOKEN}`], PROOF), InvalidRequestError, 'ERR_TOKEN_MULTIPLE_HEADERS', 'the request has more than one Authorization header'],
  ])('%s', (_name, request, kind, code, description) => {
    const error = refusal(request, { dpopScheme: 'allowed' });
    expect(error).toBeInstanceOf(kind);
    if (code !== undefined) expect(error.code).toBe(code);
    expect(error.message).toBe(description);
  });
});

describe('explicit false policies are off, like absent ones', () => {
  test('allowQueryToken: false: a header token with a URL token is two methods; a URL token alone is explained', () => {
    expect(refusal({ headers: { authorization: `Bearer ${TOKEN}` }, target: '/o?access_token=x' }, { allowQueryToken: false }).code).toBe('ERR_TOKEN_MULTIPLE_METHODS');
    expect(refusal({ target: '/o?access_token=x' }, { allowQueryToken: false }).message)
      .toBe('an access_token in the query string is not accepted here; send it in the Authorization header');
  });

  test('allowBodyToken: false: a header token with a form body token is two methods', () => {
    expect(refusal({ ...form({ access_token: TOKEN }), headers: { authorization: `Bearer ${TOKEN}`, 'content-type': FORM } }, { allowBodyToken: false }).code)
      .toBe('ERR_TOKEN_MULTIPLE_METHODS');
  });
});

describe('with a method on, what it parsed decides, not the raw request', () => {
  test('allowQueryToken: a URL that seems to hold a token but a parsed query without one: the header token is taken; no token: not explained as a query token', () => {
    const target = '/o?access_token=x';
    expect(extractCredentials(inbound({ headers: { authorization: `Bearer ${TOKEN}` }, target, query: {} }), { allowQueryToken: true }).token).toBe(TOKEN);
    expect(refusal({ target, query: {} }, { allowQueryToken: true }).message).toBe('no access token in the request');
  });

  test('allowBodyToken: an access_token member that is undefined is no token (not a malformed one), also beside a header token', () => {
    expect(refusal(form({ access_token: undefined }), { allowBodyToken: true }).message)
      .toBe('an access_token in the request body is accepted only in an application/x-www-form-urlencoded body of a non-GET request');
    expect(extractCredentials(inbound({ ...form({ access_token: undefined }), headers: { authorization: `Bearer ${TOKEN}`, 'content-type': FORM } }), { allowBodyToken: true }).token)
      .toBe(TOKEN);
    expect(refusal({ query: { access_token: undefined } }, { allowQueryToken: true }).message).toBe('no access token in the request');
  });

  test('only own members count: an access_token inherited by the parsed query or body is no token', () => {
    const inherited = Object.create({ access_token: TOKEN }) as Record<string, unknown>;
    expect(refusal({ query: inherited }, { allowQueryToken: true }).message).toBe('no access token in the request');
    expect(refusal(form(inherited), { allowBodyToken: true }).message).toBe('no access token in the request');
  });

  test('a null query or body (a parser that gave nothing) is no token, never a TypeError', () => {
    expect(refusal({ query: null }, { allowQueryToken: true }).message).toBe('no access token in the request');
    expect(refusal(form(null), { allowBodyToken: true }).message).toBe('no access token in the request');
    expect(refusal(form(null)).message).toBe('no access token in the request');
    expect(extractCredentials(inbound({ ...form(null), headers: { authorization: `Bearer ${TOKEN}`, 'content-type': FORM } })).token).toBe(TOKEN);
  });
});

describe('the query-token hint (RFC 6750 section 2: a token in the URL besides the header is refused)', () => {
  const withHeader = (target: string): Described => ({ headers: { authorization: `Bearer ${TOKEN}` }, target });

  test.each([
    ['right after the ?', '/?access_token=x'],
    ['after &', '/o?a=1&access_token=x'],
    ['after ;', '/o?a=1;access_token=x'],
    ['after a parameter that only ends in access_token', '/o?my_access_token=1&access_token=x'],
  ])('seen: %s', (_name, target) => {
    expect(refusal(withHeader(target)).code).toBe('ERR_TOKEN_MULTIPLE_METHODS');
  });

  test.each([
    ['in the path, before any ?', '/o&access_token=x'],
    ['in the path, no query', '/o;access_token=x'],
    ['only a longer name', '/o?my_access_token=1'],
    ['in a value', '/o?q=access_token=x'],
    ['none, with ; right before the ?', '/o;?page=1'],
    ['none, with & right before the ?', '/o&?page=1'],
  ])('not seen: %s', (_name, target) => {
    expect(extractCredentials(inbound(withHeader(target))).token).toBe(TOKEN);
  });
});

describe('which bodies are forms (RFC 6750 section 2.2)', () => {
  test('HEAD and GET are not, whatever the content type', () => {
    for (const method of ['HEAD', 'head', 'GET']) {
      expect(refusal(form({ access_token: TOKEN }, method), { allowBodyToken: true }).message)
        .toBe('an access_token in the request body is accepted only in an application/x-www-form-urlencoded body of a non-GET request');
    }
  });

  test('the media type is compared without its parameters and surrounding spaces', () => {
    for (const contentType of [`${FORM} ; charset=utf-8`, ` ${FORM}`, `${FORM};charset=utf-8`, 'Application/X-WWW-Form-Urlencoded']) {
      expect(extractCredentials(inbound(form({ access_token: TOKEN }, 'PUT', contentType)), { allowBodyToken: true })).toMatchObject({ via: 'body' });
    }
    expect(refusal(form({ access_token: TOKEN }, 'POST', `${FORM}x`), { allowBodyToken: true })).toBeInstanceOf(MissingTokenError);
  });
});

describe('presentedScheme: the scheme a request presented (for the challenge of its refusal)', () => {
  test.each<[string | undefined, 'Bearer' | 'DPoP' | undefined]>([
    [undefined, undefined],
    [`Bearer ${TOKEN}`, 'Bearer'],
    [`  bearer ${TOKEN}`, 'Bearer'],
    ['BEARER', 'Bearer'],
    [`DPoP ${TOKEN}`, 'DPoP'],
    [`  dpop ${TOKEN}`, 'DPoP'],
    [`DPoPx ${TOKEN}`, undefined],
    ['DPoP', undefined],
    [`Basic ${TOKEN}`, undefined],
    ['', undefined],
  ])('%j -> %s', (authorization, scheme) => {
    expect(presentedScheme(inbound({ headers: authorization === undefined ? {} : { authorization } }))).toBe(scheme);
  });
});
