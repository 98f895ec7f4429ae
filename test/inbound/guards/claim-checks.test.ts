/** The claim checks behind `claimEquals`, `claimIncludes` and `claimCheck`, on plain tokens through the guards' `.check`. */
import {
  claimCheck, claimEquals, claimIncludes, InsufficientClaimsError, InsufficientScopeError, BearerError,
  type AuthorizationCheck, type ClaimValue,
} from 'express-m2m';

const claimEqualsCheck = (claim: string, expected: ClaimValue): AuthorizationCheck => claimEquals(claim, expected).check;
const claimIncludesCheck = (claim: string, ...expected: ClaimValue[]): AuthorizationCheck => claimIncludes(claim, ...expected).check;
const claimPredicateCheck = <Claims = Record<string, unknown>>(predicate: (claims: Claims) => boolean, description?: string): AuthorizationCheck =>
  claimCheck(predicate as never, description).check;

function failure(check: AuthorizationCheck, payload: Record<string, unknown>): BearerError {
  try {
    check({ payload, scopes: [] });
  } catch (error) {
    if (error instanceof BearerError) return error;
    throw error;
  }
  throw new Error('expected the check to fail');
}

describe('a failed claim check on a valid token is a 403 (not the 401 of the Auth0 anchor)', () => {
  it('is an InsufficientClaimsError: 403 insufficient_scope with a stable code and no scope attribute', () => {
    const error = failure(claimEqualsCheck('org_id', 'acme'), { org_id: 'evil' });
    expect(error).toBeInstanceOf(InsufficientClaimsError);
    expect(error).toBeInstanceOf(InsufficientScopeError);
    expect(error.status).toBe(403);
    expect(error.code).toBe('ERR_INSUFFICIENT_CLAIMS');
    expect((error as InsufficientClaimsError).claim).toBe('org_id');
    expect(error.headers['WWW-Authenticate']).toBe(
      'Bearer error="insufficient_scope", error_description="the org_id claim does not have the required value"',
    );
    expect(error.message).not.toContain('evil');
  });

  it('builds its 403s without capturing a stack (expected rejections)', () => {
    const checks = [claimEqualsCheck('org_id', 'acme'), claimIncludesCheck('roles', 'admin'), claimPredicateCheck(() => false)];
    for (const check of checks) expect(failure(check, {}).stack).toMatch(/^InsufficientClaimsError: [^\n]*$/);
  });
});

describe('claimEqualsCheck: strict equality of a JSON primitive', () => {
  it.each([
    ['string', 'acme', 'acme', true],
    ['number', 3, 3, true],
    ['boolean', true, true, true],
    ['null', null, null, true],
    ['different string', 'acme', 'ACME', false],
    ['number vs string', 3, '3', false],
    ['absent claim', 'x', undefined, false],
  ])('%s', (_name, expected, actual, passes) => {
    const check = claimEqualsCheck('c', expected as string);
    const payload = actual === undefined ? {} : { c: actual };
    if (passes) expect(() => check({ payload, scopes: [] })).not.toThrow();
    else expect(failure(check, payload).status).toBe(403);
  });

  it('does not read inherited properties', () => {
    expect(failure(claimEqualsCheck('constructor', 'x'), {}).status).toBe(403);
  });

  it('validates its arguments at construction', () => {
    expect(() => claimEqualsCheck('', 'x')).toThrow(/claimEquals: "claim" must be a non-empty string/);
    expect(() => claimEqualsCheck('c', { a: 1 } as unknown as string)).toThrow(/"expected" must be a string/);
    expect(() => claimEqualsCheck('c', Number.NaN)).toThrow(/"expected" must be a string/);
  });
});

describe('claimIncludesCheck: the claim holds every expected value', () => {
  it('works on arrays', () => {
    const check = claimIncludesCheck('roles', 'admin', 'ops');
    expect(() => check({ payload: { roles: ['ops', 'admin', 'dev'] }, scopes: [] })).not.toThrow();
    expect(failure(check, { roles: ['admin'] }).code).toBe('ERR_INSUFFICIENT_CLAIMS');
  });

  it('works on space-separated strings', () => {
    const check = claimIncludesCheck('permissions', 'read');
    expect(() => check({ payload: { permissions: 'write read' }, scopes: [] })).not.toThrow();
    expect(failure(check, { permissions: 'reader' }).status).toBe(403);
  });

  it('fails on an absent claim or a claim of another type', () => {
    const check = claimIncludesCheck('roles', 'admin');
    expect(failure(check, {}).status).toBe(403);
    expect(failure(check, { roles: { admin: true } }).status).toBe(403);
    expect(failure(check, { roles: 1 }).status).toBe(403);
  });

  it('validates its arguments at construction', () => {
    expect(() => claimIncludesCheck('roles')).toThrow(/claimIncludes: give at least one expected value/);
    expect(() => claimIncludesCheck('roles', [1] as unknown as string)).toThrow(/expected values must be/);
  });
});

describe('claimPredicateCheck: a custom predicate must return exactly true', () => {
  it('passes when the predicate returns true', () => {
    const check = claimPredicateCheck<{ ver?: number }>((claims) => (claims.ver ?? 0) >= 2);
    expect(() => check({ payload: { ver: 2 }, scopes: [] })).not.toThrow();
  });

  it.each([
    ['false', () => false],
    ['a truthy non-boolean', () => 1 as unknown as boolean],
    ['a promise (predicates are synchronous)', () => Promise.resolve(true) as unknown as boolean],
  ])('fails when it returns %s', (_name, predicate) => {
    expect(failure(claimPredicateCheck(predicate), {}).message).toBe('the token\'s claims do not allow this request');
  });

  it('turns a throwing predicate (e.g. an unexpected claim shape) into a 403 with the cause kept', () => {
    const cause = new TypeError('boom');
    const error = failure(claimPredicateCheck(() => {
      throw cause;
    }, 'org membership required'), {});
    expect(error.status).toBe(403);
    expect(error.message).toBe('org membership required');
    expect(error.cause).toBe(cause);
  });

  it('validates its arguments at construction', () => {
    expect(() => claimPredicateCheck('x' as unknown as () => boolean)).toThrow(/"predicate" must be a function/);
    expect(() => claimPredicateCheck(() => true, 3 as unknown as string)).toThrow(/"description" must be a string/);
  });
});
