/**
 * `requireRoles`: roles (or permissions) read from a claim (default `roles`), a path of nested
 * claims or a function; all of them or, with `match: 'any'`, one; a 403 `insufficient_scope`
 * (`ERR_INSUFFICIENT_CLAIMS`, the claim named) otherwise; bad arguments throw at start-up.
 */
import { InsufficientClaimsError, requireRoles, type GuardedToken } from 'express-m2m';

const token = (payload: Record<string, unknown>): GuardedToken => ({ payload, scopes: [] });

function refusal(check: () => void): InsufficientClaimsError {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(InsufficientClaimsError);
    return error as InsufficientClaimsError;
  }
  throw new Error('expected a refusal');
}

describe('where the roles are', () => {
  it("the 'roles' claim by default, an array or a space-separated string", () => {
    const guard = requireRoles('Orders.Read');
    expect(() => guard.check(token({ roles: ['Orders.Read', 'Orders.Write'] }))).not.toThrow();
    expect(() => guard.check(token({ roles: 'Orders.Write Orders.Read' }))).not.toThrow();
    const error = refusal(() => guard.check(token({ roles: ['Orders.Write'] })));
    expect(error).toMatchObject({ status: 403, error: 'insufficient_scope', code: 'ERR_INSUFFICIENT_CLAIMS', claim: 'roles', message: 'the token needs the role Orders.Read (in roles)' });
    expect(error.detail).toMatchObject({ claim: 'roles', expected: 'Orders.Read', received: 'Orders.Write' });
  });

  it('another claim, a path of nested claims (own properties only), or a function', () => {
    expect(() => requireRoles('read:orders', { from: 'permissions' }).check(token({ permissions: ['read:orders'] }))).not.toThrow();
    const path = requireRoles('admin', { from: ['realm_access', 'roles'] });
    expect(() => path.check(token({ realm_access: { roles: ['admin'] } }))).not.toThrow();
    expect(() => path.check(token({ realm_access: ['admin'] }))).toThrow(InsufficientClaimsError);
    expect(() => path.check(token({}))).toThrow(InsufficientClaimsError);
    expect(() => path.check(token({ realm_access: Object.create({ roles: ['admin'] }) as object }))).toThrow(InsufficientClaimsError);
    const fn = requireRoles('x', { from: (claims) => (claims.groups as string[] | undefined) ?? [] });
    expect(() => fn.check(token({ groups: ['x'] }))).not.toThrow();
    // A function that throws grants nothing.
    expect(() => requireRoles('x', { from: () => { throw new Error('bug'); } }).check(token({}))).toThrow(InsufficientClaimsError);
  });

  it('values that are not strings never count', () => {
    expect(() => requireRoles('1').check(token({ roles: [1, null, { a: 1 }] }))).toThrow(InsufficientClaimsError);
    expect(() => requireRoles('admin').check(token({ roles: { admin: true } }))).toThrow(InsufficientClaimsError);
  });
});

describe('match', () => {
  it("all by default, one with 'any'", () => {
    expect(() => requireRoles(['a', 'b']).check(token({ roles: ['a'] }))).toThrow('the token needs all of the roles a b (in roles)');
    expect(() => requireRoles(['a', 'b'], { match: 'any' }).check(token({ roles: ['b'] }))).not.toThrow();
    expect(() => requireRoles('a b', { match: 'any' }).check(token({ roles: [] }))).toThrow('the token needs one of the roles a b (in roles)');
  });
});

describe('bad arguments throw a TypeError at start-up', () => {
  it.each([
    [() => requireRoles(''), 'requireRoles: "roles" must be a non-empty string or a non-empty array of non-empty strings'],
    [() => requireRoles([]), 'requireRoles: "roles" must be a non-empty string'],
    [() => requireRoles(['a', ''] as string[]), 'requireRoles: "roles" must be a non-empty string'],
    [() => requireRoles('a', { from: [] }), 'requireRoles: "from" must be a claim name, a non-empty array of claim names (a path) or a function of the claims'],
    [() => requireRoles('a', { from: 3 as never }), 'requireRoles: "from" must be a claim name'],
    [() => requireRoles('a', { match: 'some' as never }), `requireRoles: "match" must be 'all' or 'any'`],
    [() => requireRoles('a', { form: 'roles' } as never), 'requireRoles: unknown option "form" (did you mean "from"?)'],
  ])('%#', (attempt, message) => {
    expect(attempt).toThrow(TypeError);
    expect(attempt).toThrow(message);
  });
});
