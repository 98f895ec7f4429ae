/**
 * Internal: the role check behind the `requireRoles` guard: roles (or permissions) read from a
 * claim, a path of nested claims (Keycloak's `realm_access.roles`) or a function of the claims,
 * written once, framework-free. A token without them gets 403 `insufficient_scope`.
 */
import type { JWTPayload } from 'jose';
import { withoutStack } from '../../errors/without-stack.js';
import { OptionReader, type KnownOptions } from '../../options/option-reader.js';
import { mismatch } from '../rejection-detail.js';
import type { DeepReadonly } from '../verified-token.js';
import type { AuthorizationCheck } from './authorization-check.js';
import { InsufficientClaimsError } from './insufficient-claims-error.js';
import { hasScopes, type ScopeMatch } from './scope-check.js';

/**
 * Where a token's roles are: a claim name (`'roles'`, `'permissions'`), a path of nested claims
 * (`['realm_access', 'roles']`), or a function of the verified claims returning them. The claim
 * holds an array of strings or a space-separated string; anything else counts as no roles.
 *
 * @example
 * ```ts
 * import { requireRoles, type RoleSource } from 'express-m2m';
 *
 * const realmRoles: RoleSource = ['realm_access', 'roles'];
 * const groupsOrRoles: RoleSource = (claims) => [...(claims.groups as string[] ?? []), ...(claims.roles as string[] ?? [])];
 * app.delete('/orders/:id', requireRoles('orders-admin', { from: realmRoles }), handler);
 * app.get('/reports', requireRoles('reports', { from: groupsOrRoles }), handler);
 * ```
 */
export type RoleSource = string | readonly string[] | ((claims: DeepReadonly<JWTPayload>) => readonly string[]);

/**
 * Options of `requireRoles`.
 *
 * @example
 * ```ts
 * import { requireRoles, type RoleCheckOptions } from 'express-m2m';
 *
 * const options: RoleCheckOptions = { from: 'permissions', match: 'any' };
 * app.get('/reports', requireRoles(['reports:read', 'admin'], options), handler);
 * ```
 */
export interface RoleCheckOptions {
  /** Where the roles are. Default `'roles'` (Microsoft Entra ID app roles, Auth0 and Okta custom claims). */
  from?: RoleSource;
  /** `'all'`: every listed role is required; `'any'`: one of them is enough. Default `'all'`. */
  match?: ScopeMatch;
}

const ROLE_CHECK_OPTION_NAMES: KnownOptions<RoleCheckOptions> = { from: true, match: true };

/** The values of a claim that holds roles: an array's strings, or a space-separated string's words. */
function roleValues(value: unknown): readonly string[] {
  if (typeof value === 'string') return value.split(' ').filter((item) => item !== '');
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

/** The value at a path of nested claims (own properties only), or `undefined`. */
function claimAt(claims: unknown, path: readonly string[]): unknown {
  let value: unknown = claims;
  for (const name of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, name)) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

function parseRoles(roles: unknown, caller: string): string[] {
  const list = typeof roles === 'string' ? roles.split(' ').filter((role) => role !== '') : roles;
  if (!Array.isArray(list) || list.length === 0 || !list.every((role) => typeof role === 'string' && role !== '')) {
    throw new TypeError(`${caller}: "roles" must be a non-empty string or a non-empty array of non-empty strings`);
  }
  return [...new Set(list as string[])];
}

/** A check that requires roles (403 `insufficient_scope`, code `ERR_INSUFFICIENT_CLAIMS`, when they are missing). */
export function roleCheck(roles: unknown, options: unknown, caller: string): AuthorizationCheck {
  const required = parseRoles(roles, caller);
  const read = new OptionReader<RoleCheckOptions>(options, ROLE_CHECK_OPTION_NAMES, { caller });
  const match = read.oneOf('match', ['all', 'any'], 'all');
  const from = read.raw('from') ?? 'roles';
  let label: string;
  let rolesOf: (claims: DeepReadonly<JWTPayload>) => readonly string[];
  if (typeof from === 'string' && from !== '') {
    label = from;
    rolesOf = (claims) => roleValues(claimAt(claims, [from]));
  } else if (Array.isArray(from) && from.length > 0 && from.every((name) => typeof name === 'string' && name !== '')) {
    const path = [...from] as string[];
    label = path.join('.');
    rolesOf = (claims) => roleValues(claimAt(claims, path));
  } else if (typeof from === 'function') {
    label = 'roles';
    const source = from as (claims: DeepReadonly<JWTPayload>) => unknown;
    rolesOf = (claims) => {
      try {
        return roleValues(source(claims));
      } catch {
        return [];
      }
    };
  } else {
    return read.fail('from', 'must be a claim name, a non-empty array of claim names (a path) or a function of the claims');
  }
  const description = match === 'any' && required.length > 1
    ? `the token needs one of the roles ${required.join(' ')} (in ${label})`
    : required.length === 1
      ? `the token needs the role ${required[0]} (in ${label})`
      : `the token needs all of the roles ${required.join(' ')} (in ${label})`;
  const expected = match === 'any' ? `one of ${required.join(' ')}` : required.join(' ');
  return (token) => {
    const granted = rolesOf(token.payload);
    if (!hasScopes(granted, required, match)) {
      throw withoutStack(() => new InsufficientClaimsError(description, label, { detail: mismatch(token.payload, label, expected, granted.join(' ')) }));
    }
  };
}
