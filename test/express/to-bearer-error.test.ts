/**
 * What requireAuth does with errors that are not BearerErrors (a bug or an unexpected failure in
 * the core): never a 500 for the client; and the realm added to every challenge in one place,
 * when the rejection is answered.
 */
import { inChallengeContext, type BearerError as AnyBearerError } from '../../src/errors/bearer-errors.js';
import { toRejection } from '../../src/inbound/rejection.js';
import { UpstreamError } from '../../src/transport/fetch-json.js';
import {
  InsufficientScopeError, InvalidRequestError, InvalidTokenError, KeySourceUnavailableError, MissingTokenError, requireAuth,
} from 'express-m2m';
import type { RequireAuthEvent } from 'express-m2m';

/** The rejection requireAuth answers for `thrown`, with its realm (if any). */
function toBearerError(thrown: unknown, realm: string | undefined): { error: AnyBearerError; unexpected: boolean } {
  const { error, unexpected } = toRejection(thrown);
  return { error: inChallengeContext(error, { realm }), unexpected };
}
const withRealm = <E extends AnyBearerError>(error: E, realm: string): E => inChallengeContext(error, { realm });

describe('errors that are not BearerErrors never become a 500', () => {
  it('keeps a BearerError as it is', () => {
    const error = new InvalidTokenError('expired', 'ERR_JWT_EXPIRED');
    expect(toBearerError(error, undefined)).toEqual({ error, unexpected: false });
    const unavailable = new KeySourceUnavailableError(undefined, 7);
    expect(toBearerError(unavailable, 'api')).toEqual({ error: unavailable, unexpected: false });
  });

  it.each([
    ['UpstreamError', new UpstreamError('https://issuer.test/jwks answered HTTP 500', 500)],
    ['a jwks-rsa JwksError', Object.assign(new Error('Expected 200 OK from the JSON Web Key Set HTTP response'), { name: 'JwksError' })],
    ['a jose ERR_JWKS_TIMEOUT', Object.assign(new Error('request timed out'), { code: 'ERR_JWKS_TIMEOUT' })],
    ['a jose ERR_JWT_EXPIRED', Object.assign(new Error('"exp" claim timestamp check failed'), { code: 'ERR_JWT_EXPIRED' })],
    ['a jwks-rsa SigningKeyNotFoundError', Object.assign(new Error('no key'), { name: 'SigningKeyNotFoundError' })],
  ])('the core never lets %s escape (it throws BearerErrors), so one arriving here is unexpected: 401 ERR_TOKEN_UNVERIFIABLE', (_name, thrown) => {
    const { error, unexpected } = toBearerError(thrown, 'api');
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error.status).toBe(401);
    expect(error.code).toBe('ERR_TOKEN_UNVERIFIABLE');
    expect(error.headers['WWW-Authenticate']).toMatch(/^Bearer realm="api", error="invalid_token"/);
    expect(error.cause).toBe(thrown);
    expect(unexpected).toBe(true);
  });

  it('anything else -> 401 invalid_token, flagged as unexpected, without its message', () => {
    const thrown = new TypeError('Cannot read properties of undefined (reading \'kid\')');
    const { error, unexpected } = toBearerError(thrown, undefined);
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error.status).toBe(401);
    expect(error.code).toBe('ERR_TOKEN_UNVERIFIABLE');
    expect(error.message).toBe('the access token could not be verified');
    expect(unexpected).toBe(true);
    expect(toBearerError('a string', undefined).error.status).toBe(401);
    expect(toBearerError(null, undefined).error.status).toBe(401);
  });

  it('requireAuth answers 401 to a failure of its own (a buggy key source) and reports it to onEvent', async () => {
    const events: RequireAuthEvent[] = [];
    const bug = new TypeError('a bug in a custom key source');
    let armed = false;
    const buggy = {
      algorithms: ['RS256'],
      get generation(): number {
        if (armed) throw bug;
        return 0;
      },
      getKey: () => {
        throw bug;
      },
      warmUp: async () => undefined,
    };
    const middleware = requireAuth({ issuer: 'https://issuer.test/', audience: 'https://api.test', keySource: buggy, onEvent: (event) => events.push(event) });
    armed = true;
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iss: 'https://issuer.test/', aud: 'https://api.test', exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url');
    const next = await new Promise<unknown[]>((resolve) => {
      middleware({ headers: { authorization: `Bearer ${header}.${payload}.c2ln` }, rawHeaders: [], method: 'GET' } as never, {} as never, (...args) => resolve(args));
    });
    const error = next[0] as InvalidTokenError;
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error.code).toBe('ERR_TOKEN_UNVERIFIABLE');
    expect(error.message).not.toContain('bug');
    expect(events).toContainEqual({ type: 'auth.unexpected_error', error: bug });
    expect(events).toContainEqual({ type: 'auth.rejected', status: 401, code: 'ERR_TOKEN_UNVERIFIABLE', method: 'GET', path: '/' });
    middleware.close();
  });
});

describe('the realm is added to challenges built without it', () => {
  it.each([
    [new MissingTokenError(), 'Bearer realm="api"'],
    [new InvalidRequestError('bad'), 'Bearer realm="api", error="invalid_request", error_description="bad"'],
    [new InvalidTokenError('expired'), 'Bearer realm="api", error="invalid_token", error_description="expired"'],
    [new InsufficientScopeError(['a', 'b'], 'needs a b'), 'Bearer realm="api", error="insufficient_scope", error_description="needs a b", scope="a b"'],
  ])('%p', (error, challenge) => {
    const copy = withRealm(error, 'api');
    expect(copy.headers['WWW-Authenticate']).toBe(challenge);
    expect(copy).toBeInstanceOf(error.constructor);
    expect(copy.status).toBe(error.status);
    expect(copy.code).toBe(error.code);
    expect(copy.toJSON()).toEqual(error.toJSON());
    // The original (possibly shared) error is untouched.
    expect(error.headers['WWW-Authenticate']).not.toContain('realm');
  });

  it('leaves a 503 (no challenge) and an error that has a realm alone', () => {
    const unavailable = new KeySourceUnavailableError();
    expect(withRealm(unavailable, 'api')).toBe(unavailable);
    const withOwn = new MissingTokenError(undefined, { realm: 'own' });
    expect(withRealm(withOwn, 'api')).toBe(withOwn);
  });

  it('works on frozen errors', () => {
    const frozen = Object.freeze(new InvalidTokenError('expired')) as InvalidTokenError;
    expect(withRealm(frozen, 'api').headers['WWW-Authenticate']).toMatch(/^Bearer realm="api"/);
  });
});
