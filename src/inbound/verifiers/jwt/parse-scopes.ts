/** Internal: the granted scopes of a verified token, from a space-separated string or an array claim. */
import { invalidToken } from './invalid-token.js';

const NO_SCOPES: readonly string[] = Object.freeze([]);

/**
 * The scopes in `value` (the token's scope claim): a space-separated string (`scope`, RFC 8693 /
 * RFC 9068) or an array of strings (`scp`, Auth0 `permissions`). Missing or `''` gives `[]`;
 * anything else is an invalid token.
 */
export function parseScopes(value: unknown, claim: string): readonly string[] {
  if (value === undefined || value === '') return NO_SCOPES;
  if (typeof value === 'string') return value.split(' ').filter((scope) => scope !== '');
  if (Array.isArray(value) && value.every((scope) => typeof scope === 'string')) return (value as string[]).filter((s) => s !== '');
  throw invalidToken('ERR_JWT_CLAIM_INVALID', `'${claim}' claim must be a space-separated string or an array of strings`);
}
