/**
 * Internal: the scope check behind the `requireScopes` guard (RFC 6750 section 3.1
 * `insufficient_scope`), written once, framework-free.
 */
import { InsufficientScopeError } from '../../errors/bearer-errors.js';
import { withoutStack } from '../../errors/without-stack.js';
import { OptionReader, type KnownOptions } from '../../options/option-reader.js';
import { mismatch } from '../rejection-detail.js';
import type { AuthorizationCheck } from './authorization-check.js';

/**
 * How several required scopes combine: the token needs all of them, or at least one.
 *
 * @example
 * ```ts
 * import { requireScopes, type ScopeMatch } from 'express-m2m';
 *
 * const match: ScopeMatch = 'any';
 * app.delete('/orders/:id', requireScopes(['admin', 'delete:orders'], { match }), handler);
 * ```
 */
export type ScopeMatch = 'all' | 'any';

/**
 * Options of `requireScopes`.
 *
 * @example
 * ```ts
 * import { requireScopes, type ScopeCheckOptions } from 'express-m2m';
 *
 * const anyOf: ScopeCheckOptions = { match: 'any' };
 * app.delete('/orders/:id', requireScopes(['admin', 'delete:orders'], anyOf), handler);
 * ```
 */
export interface ScopeCheckOptions {
  /** `'all'`: every listed scope is required; `'any'`: one of them is enough. Default: `'all'`. */
  match?: ScopeMatch;
}

const SCOPE_CHECK_OPTION_NAMES: KnownOptions<ScopeCheckOptions> = { match: true };

/** RFC 6749 section 3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * Whether `granted` satisfies `required`: with `'all'` every required scope must be granted, with
 * `'any'` at least one. An empty `required` list is always satisfied.
 */
export function hasScopes(granted: readonly string[], required: readonly string[], match: ScopeMatch = 'all'): boolean {
  if (required.length === 0) return true;
  if (match === 'any') {
    for (const scope of required) if (granted.includes(scope)) return true;
    return false;
  }
  for (const scope of required) if (!granted.includes(scope)) return false;
  return true;
}

/**
 * Parses and validates a list of required scopes: a space-separated string or an array of scope
 * tokens (RFC 6749 section 3.3). Throws a `TypeError` naming `caller` when the list is invalid.
 */
function parseRequiredScopes(scopes: unknown, caller: string): string[] {
  let list: unknown[];
  if (typeof scopes === 'string') list = scopes.split(' ').filter((scope) => scope !== '');
  else if (Array.isArray(scopes)) list = scopes;
  else throw new TypeError(`${caller}: "scopes" must be a string or an array of strings`);
  if (list.length === 0) throw new TypeError(`${caller}: "scopes" must name at least one scope`);
  for (const scope of list) {
    if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) {
      throw new TypeError(
        `${caller}: "scopes" must hold scope tokens (printable ASCII without spaces, quotes or backslashes)`,
      );
    }
  }
  return [...new Set(list as string[])];
}

/**
 * A check that requires scopes (403 `insufficient_scope` with the required scopes in the `scope`
 * attribute of `WWW-Authenticate` when they are missing). Validates its arguments now, so a
 * mistake fails at start-up, not on a request.
 */
export function scopeCheck(scopes: unknown, options: unknown, caller: string): AuthorizationCheck {
  const required = parseRequiredScopes(scopes, caller);
  const match = new OptionReader<ScopeCheckOptions>(options, SCOPE_CHECK_OPTION_NAMES, { caller }).oneOf('match', ['all', 'any'], 'all');
  const description = match === 'any' && required.length > 1
    ? `the token needs one of the scopes ${required.join(' ')}`
    : required.length === 1
      ? `the token needs the scope ${required[0]}`
      : `the token needs all of the scopes ${required.join(' ')}`;
  const expected = match === 'any' ? `one of ${required.join(' ')}` : required.join(' ');
  return (token) => {
    if (!hasScopes(token.scopes, required, match)) {
      const detail = mismatch(token.payload, 'scope', expected, token.scopes.join(' '));
      throw withoutStack(() => new InsufficientScopeError(required, description, 'ERR_INSUFFICIENT_SCOPE', { detail }));
    }
  };
}
