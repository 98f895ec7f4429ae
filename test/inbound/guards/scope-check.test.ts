/**
 * The scope check behind `requireScopes` (RFC 6750 section 3.1), on plain tokens through the
 * guard's `.check`; `hasScopes` is the internal rule it applies.
 */
import { requireScopes, InsufficientScopeError, BearerError } from 'express-m2m';
import type { AuthorizationCheck, GuardedToken, ScopeCheckOptions } from 'express-m2m';
import { hasScopes } from '../../../src/inbound/guards/scope-check.js';

const scopeCheck = (scopes: string | readonly string[], options?: ScopeCheckOptions): AuthorizationCheck => requireScopes(scopes, options).check;

function failure(check: AuthorizationCheck, token: GuardedToken): BearerError {
  try {
    check(token);
  } catch (error) {
    if (error instanceof BearerError) return error;
    throw error;
  }
  throw new Error('expected the check to fail');
}

const token = (scopes: string[]): GuardedToken => ({ payload: { scope: scopes.join(' ') }, scopes });

describe('hasScopes: all or any of the required scopes', () => {
  it('all: every required scope must be granted', () => {
    expect(hasScopes(['a', 'b', 'c'], ['a', 'b'], 'all')).toBe(true);
    expect(hasScopes(['a'], ['a', 'b'], 'all')).toBe(false);
    expect(hasScopes(['a'], ['a', 'b'])).toBe(false);
  });

  it('any: one granted scope is enough', () => {
    expect(hasScopes(['b'], ['a', 'b'], 'any')).toBe(true);
    expect(hasScopes(['c'], ['a', 'b'], 'any')).toBe(false);
    expect(hasScopes([], ['a'], 'any')).toBe(false);
  });

  it('an empty requirement is always met', () => {
    expect(hasScopes([], [], 'all')).toBe(true);
    expect(hasScopes([], [], 'any')).toBe(true);
  });

  it('compares whole scope tokens, case-sensitively', () => {
    expect(hasScopes(['read:orders'], ['read'], 'all')).toBe(false);
    expect(hasScopes(['READ'], ['read'], 'all')).toBe(false);
  });
});

describe('RFC 6750 section 3.1: insufficient_scope is a 403 naming the required scopes', () => {
  it('passes a token with the scopes', () => {
    expect(() => scopeCheck('read write')(token(['write', 'read']))).not.toThrow();
    expect(() => scopeCheck(['read', 'write'], { match: 'any' })(token(['write']))).not.toThrow();
  });

  it('fails with 403 insufficient_scope and scope="..." in WWW-Authenticate', () => {
    const error = failure(scopeCheck(['read:orders', 'write:orders']), token(['read:orders']));
    expect(error).toBeInstanceOf(InsufficientScopeError);
    expect(error.status).toBe(403);
    expect(error.code).toBe('ERR_INSUFFICIENT_SCOPE');
    expect(error.headers['WWW-Authenticate']).toBe(
      'Bearer error="insufficient_scope", error_description="the token needs all of the scopes read:orders write:orders", scope="read:orders write:orders"',
    );
    expect(error.toJSON()).toEqual({
      error: 'insufficient_scope',
      error_description: 'the token needs all of the scopes read:orders write:orders',
    });
  });

  it('with match "any" says one of the scopes is needed', () => {
    const error = failure(scopeCheck('a b', { match: 'any' }), token(['c']));
    expect(error.message).toBe('the token needs one of the scopes a b');
    expect(error.headers['WWW-Authenticate']).toContain('scope="a b"');
  });

  it('a token without any scope fails', () => {
    expect(failure(scopeCheck('read'), token([])).status).toBe(403);
  });

  it('builds its 403 without capturing a stack (an expected rejection)', () => {
    expect(failure(scopeCheck('read'), token([])).stack?.split('\n')).toHaveLength(1);
  });

  it('builds its challenge without a realm (the Express adapter adds requireAuth\'s)', () => {
    expect(failure(scopeCheck('read'), token([])).headers['WWW-Authenticate']).toMatch(/^Bearer error="insufficient_scope"/);
  });
});

describe('requireScopes: bad arguments fail at construction, naming the option', () => {
  it.each([
    [undefined, /"scopes" must be a string or an array of strings/],
    [42, /"scopes" must be a string or an array of strings/],
    ['', /"scopes" must name at least one scope/],
    [[], /"scopes" must name at least one scope/],
    [['a b'], /"scopes" must hold scope tokens/],
    [['a"b'], /"scopes" must hold scope tokens/],
    [[1], /"scopes" must hold scope tokens/],
  ])('scopes %p', (scopes, message) => {
    expect(() => scopeCheck(scopes as string)).toThrow(message);
  });

  it('rejects an unknown match', () => {
    expect(() => scopeCheck('a', { match: 'some' as 'all' })).toThrow(/requireScopes: "match" must be 'all' or 'any'/);
  });
});
