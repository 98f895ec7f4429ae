/**
 * RFC 6750 section 2: credential extraction, the first step of the inbound pipeline. The requests
 * are written as plain descriptions (headers, query, target, body, method, content type) and
 * turned into the pipeline's InboundRequest by `inbound()`.
 */
import { InvalidRequestError, MissingTokenError, BearerError, type InboundRequest } from 'express-m2m';
import { extractCredentials, type CredentialsPolicy } from 'express-m2m/extend';

interface TokenRequest {
  headers: Record<string, string | string[] | undefined>;
  query?: unknown;
  url?: string;
  body?: unknown;
  method?: string;
  contentType?: string;
}
type ExtractionOptions = CredentialsPolicy;

function inbound(request: TokenRequest): InboundRequest {
  // Getters: a test's own getter (that throws when read) is read only when extraction reads it.
  return {
    method: request.method ?? 'GET',
    target: request.url ?? '/',
    get query() {
      return request.query;
    },
    get body() {
      return request.body;
    },
    headerLines: (name) => {
      const value = name === 'content-type' && request.contentType !== undefined ? request.contentType : request.headers[name];
      return value === undefined ? [] : Array.isArray(value) ? value : [value];
    },
  };
}

function extractBearerToken(request: TokenRequest, options?: ExtractionOptions): string {
  const credentials = extractCredentials(inbound(request), options);
  expect(credentials.scheme).toBe('Bearer');
  return credentials.token;
}

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJl';

function rejection(request: TokenRequest, options?: ExtractionOptions): BearerError {
  try {
    extractBearerToken(request, options);
  } catch (error) {
    if (error instanceof BearerError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('RFC 6750 section 2.1: the Authorization request header', () => {
  it('returns the token of a Bearer credential', () => {
    expect(extractBearerToken({ headers: { authorization: `Bearer ${TOKEN}` } })).toBe(TOKEN);
  });

  it.each(['bearer', 'BEARER', 'BeArEr'])('matches the scheme %s case-insensitively', (scheme) => {
    expect(extractBearerToken({ headers: { authorization: `${scheme} ${TOKEN}` } })).toBe(TOKEN);
  });

  it('accepts several spaces between scheme and token (1*SP) and surrounding whitespace', () => {
    expect(extractBearerToken({ headers: { authorization: `Bearer   ${TOKEN}` } })).toBe(TOKEN);
    expect(extractBearerToken({ headers: { authorization: `  Bearer ${TOKEN}  ` } })).toBe(TOKEN);
  });

  it('accepts every b64token character and trailing "=" padding', () => {
    const token = 'AZaz09-._~+/abc==';
    expect(extractBearerToken({ headers: { authorization: `Bearer ${token}` } })).toBe(token);
  });

  it('takes a single-element array like a string', () => {
    expect(extractBearerToken({ headers: { authorization: [`Bearer ${TOKEN}`] } })).toBe(TOKEN);
  });

  it('rejects an empty Bearer credential with 400 invalid_request', () => {
    for (const authorization of ['Bearer', 'Bearer ', 'bearer    ']) {
      const error = rejection({ headers: { authorization } });
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect(error.status).toBe(400);
      expect(error.code).toBe('ERR_TOKEN_EMPTY');
      expect(error.headers['WWW-Authenticate']).toMatch(/^Bearer error="invalid_request"/);
    }
  });

  it.each([
    ['two tokens', `Bearer ${TOKEN} ${TOKEN}`],
    ['a comma-joined pair of credentials', `Bearer ${TOKEN}, Bearer ${TOKEN}`],
    ['characters outside b64token', 'Bearer abc$def'],
    ['padding in the middle', 'Bearer ab=cd'],
    ['a quoted token', `Bearer "${TOKEN}"`],
  ])('rejects %s with 400 invalid_request', (_name, authorization) => {
    const error = rejection({ headers: { authorization } });
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.status).toBe(400);
    expect(error.error).toBe('invalid_request');
  });

  it('rejects two Authorization headers with 400 invalid_request', () => {
    const error = rejection({ headers: { authorization: [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`] } });
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.code).toBe('ERR_TOKEN_MULTIPLE_HEADERS');
  });

  it('never echoes the token in an error description', () => {
    const error = rejection({ headers: { authorization: `Bearer ${TOKEN} ${TOKEN}` } });
    expect(error.message).not.toContain(TOKEN);
    expect(error.headers['WWW-Authenticate']).not.toContain(TOKEN);
  });
});

describe('RFC 6750 section 3.1: a request without Bearer credentials gets a bare challenge', () => {
  it.each([
    ['no Authorization header', {}],
    ['an empty Authorization header', { authorization: '' }],
    ['the Basic scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['a scheme that starts with "Bearer"', { authorization: `Bearerx ${TOKEN}` }],
    ['a scheme glued to the token', { authorization: `Bearer${TOKEN}` }],
    ['a short header', { authorization: 'Bear' }],
    ['a tab instead of a space (1*SP)', { authorization: `Bearer\t${TOKEN}` }],
    ['an empty header array', { authorization: [] as string[] }],
  ])('%s -> 401 MissingTokenError without error code', (_name, headers) => {
    const error = rejection({ headers });
    expect(error).toBeInstanceOf(MissingTokenError);
    expect(error.status).toBe(401);
    expect(error.error).toBeUndefined();
    expect(error.headers['WWW-Authenticate']).toBe('Bearer');
  });

  it('explains that another scheme was used', () => {
    expect(rejection({ headers: { authorization: 'Basic dXNlcjpwYXNz' } }).message).toMatch(/Bearer scheme/);
  });

  it('builds the error without capturing a stack (the cheap, common rejection) and restores the limit', () => {
    const limit = Error.stackTraceLimit;
    const error = rejection({ headers: {} });
    expect(error.stack?.split('\n')).toHaveLength(1);
    expect(Error.stackTraceLimit).toBe(limit);
  });

  it('builds a 400 invalid_request without capturing a stack either (an expected rejection)', () => {
    const error = rejection({ headers: { authorization: 'Bearer a b' } });
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.stack).toBe(`InvalidRequestError: ${error.message}`);
  });

  it('builds a challenge without realm (requireAuth adds its realm to every error in one place)', () => {
    expect(rejection({ headers: {} }).headers['WWW-Authenticate']).toBe('Bearer');
  });
});

describe('RFC 6750 section 2.3: the URI query parameter is off unless enabled', () => {
  it('ignores access_token in the query by default, and says why in the 401 (from the url, without parsing the query)', () => {
    const error = rejection({
      headers: {},
      url: `/orders?page=2&access_token=${TOKEN}`,
      get query(): unknown {
        throw new Error('query read');
      },
    });
    expect(error).toBeInstanceOf(MissingTokenError);
    expect(error.message).toMatch(/query string is not accepted/);
  });

  it('does not read the query on the no-token path when the method is off', () => {
    const request = {
      headers: {},
      url: '/orders?page=2',
      get query(): unknown {
        throw new Error('query read');
      },
    };
    expect(rejection(request).message).toBe('no access token in the request');
    expect(rejection({ headers: {}, url: '/orders?my_access_token=x' }).message).toBe('no access token in the request');
    expect(rejection({ headers: {}, url: '/access_token=x' }).message).toBe('no access token in the request');
  });

  it('ignores a malformed access_token query parameter when the method is off', () => {
    expect(extractBearerToken({ headers: { authorization: `Bearer ${TOKEN}` }, query: { access_token: ['a', 'b'] } })).toBe(TOKEN);
  });

  it('does not read the query at all when the method is off and a header token is present', () => {
    const request = {
      headers: { authorization: `Bearer ${TOKEN}` },
      get query(): unknown {
        throw new Error('query read');
      },
    };
    expect(extractBearerToken(request)).toBe(TOKEN);
  });

  it('takes access_token from the query when allowQueryToken is on', () => {
    expect(extractBearerToken({ headers: {}, query: { access_token: TOKEN } }, { allowQueryToken: true })).toBe(TOKEN);
  });

  it.each([
    ['repeated', { access_token: [TOKEN, TOKEN] }, 'ERR_TOKEN_REPEATED_PARAMETER'],
    ['empty', { access_token: '' }, 'ERR_TOKEN_EMPTY'],
    ['an object', { access_token: { a: TOKEN } }, 'ERR_TOKEN_MALFORMED_PARAMETER'],
    ['not a b64token', { access_token: 'a b' }, 'ERR_TOKEN_MALFORMED_PARAMETER'],
  ])('rejects a query access_token that is %s with 400', (_name, query, code) => {
    const error = rejection({ headers: {}, query }, { allowQueryToken: true });
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.code).toBe(code);
  });
});

describe('RFC 6750 section 2.2: the form-encoded body parameter is off unless enabled', () => {
  const form = { method: 'POST', contentType: 'application/x-www-form-urlencoded; charset=utf-8', body: { access_token: TOKEN } };

  it('ignores access_token in the body by default, and says why in the 401', () => {
    const error = rejection({ headers: {}, ...form });
    expect(error).toBeInstanceOf(MissingTokenError);
    expect(error.message).toMatch(/request body is not accepted/);
  });

  it('takes access_token from a form-encoded POST body when allowBodyToken is on', () => {
    expect(extractBearerToken({ headers: {}, ...form }, { allowBodyToken: true })).toBe(TOKEN);
    expect(extractBearerToken({ headers: {}, ...form, contentType: 'Application/X-WWW-Form-Urlencoded' }, { allowBodyToken: true })).toBe(TOKEN);
  });

  it.each([
    ['a GET request', { method: 'GET' }],
    ['a JSON body', { contentType: 'application/json' }],
    ['no content type', { contentType: undefined }],
    ['no method', { method: undefined }],
  ])('does not take a body token from %s', (_name, override) => {
    const error = rejection({ headers: {}, ...form, ...override }, { allowBodyToken: true });
    expect(error).toBeInstanceOf(MissingTokenError);
    expect(error.message).toMatch(/accepted only in an application\/x-www-form-urlencoded body of a non-GET request/);
  });
});

describe('RFC 6750 section 2: a request uses exactly one method', () => {
  const all: ExtractionOptions = { allowQueryToken: true, allowBodyToken: true };
  const form = { method: 'POST', contentType: 'application/x-www-form-urlencoded' };

  it.each([
    ['header and query', { headers: { authorization: `Bearer ${TOKEN}` }, query: { access_token: TOKEN } }],
    ['header and body', { headers: { authorization: `Bearer ${TOKEN}` }, body: { access_token: TOKEN }, ...form }],
    ['query and body', { headers: {}, query: { access_token: TOKEN }, body: { access_token: TOKEN }, ...form }],
  ])('%s -> 400 invalid_request', (_name, request) => {
    const error = rejection(request, all);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.code).toBe('ERR_TOKEN_MULTIPLE_METHODS');
    expect(error.headers['WWW-Authenticate']).toContain('error="invalid_request"');
  });

  it('a header token plus a token by a disabled method is not "more than one method"', () => {
    expect(extractBearerToken({ headers: { authorization: `Bearer ${TOKEN}` }, query: { access_token: TOKEN } })).toBe(TOKEN);
  });
});

describe('RFC 6750 section 2: a token sent by more than one method is refused, whether the other method is enabled or not', () => {
  it('header + ?access_token= with query tokens off: 400 invalid_request (the URL token has leaked to logs either way)', () => {
    const error = rejection({ headers: { authorization: `Bearer ${TOKEN}` }, url: `/orders?access_token=${TOKEN}` });
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.status).toBe(400);
    expect(error.code).toBe('ERR_TOKEN_MULTIPLE_METHODS');
  });

  it('header + a form body access_token with body tokens off: 400 invalid_request', () => {
    const error = rejection({
      headers: { authorization: `Bearer ${TOKEN}` }, method: 'POST', contentType: 'application/x-www-form-urlencoded', body: { access_token: TOKEN },
    });
    expect(error.code).toBe('ERR_TOKEN_MULTIPLE_METHODS');
  });

  it('a JSON body field named access_token is data, not a credential: the header token is taken', () => {
    expect(extractBearerToken({ headers: { authorization: `Bearer ${TOKEN}` }, method: 'POST', contentType: 'application/json', body: { access_token: 'x' } })).toBe(TOKEN);
  });

  it('a parameter that only ends in access_token is another parameter', () => {
    expect(extractBearerToken({ headers: { authorization: `Bearer ${TOKEN}` }, url: '/orders?my_access_token=1' })).toBe(TOKEN);
  });
});

describe('messages say what is wrong', () => {
  it('a tab after "Bearer": still a 401 with a bare challenge, and the description names the separator', () => {
    const error = rejection({ headers: { authorization: `Bearer\t${TOKEN}` } });
    expect(error.status).toBe(401);
    expect(error.headers['WWW-Authenticate']).toBe('Bearer');
    expect(error.message).toBe("the Authorization header separates 'Bearer' from the token with a tab or another control character; use a space (RFC 7235 section 2.1)");
  });
});
