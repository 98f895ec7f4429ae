/**
 * Internal: what the provider presets share: reading a provider's base URL (a host name or, for
 * tests and private clouds, a URL), an allowlist of clients, and the refusals that name the
 * likely mistake (401 `invalid_token`, thrown from a claim rule, which passes them on as they are).
 */
import type { JWTPayload } from 'jose';
import type { JwtErrorCode } from '../errors/error-codes.js';
import { AUTHENTICATOR_OPTION_NAMES } from '../inbound/authenticate.js';
import { OptionReader, type KnownOptions } from '../options/option-reader.js';
import { CLIENT_CREDENTIALS_OPTION_NAMES } from '../outbound/client-credentials-options.js';
import { invalidToken } from '../inbound/verifiers/jwt/invalid-token.js';
import { mismatch } from '../inbound/rejection-detail.js';
import type { DeepReadonly } from '../inbound/verified-token.js';

/** The options of the function a preset's result is for, by name. */
const TARGET_OPTIONS = {
  requireAuth: [...Object.keys(AUTHENTICATOR_OPTION_NAMES), 'realm', 'credentialsRequired'],
  clientCredentials: Object.keys(CLIENT_CREDENTIALS_OPTION_NAMES),
} as const;

/**
 * The reader of a preset's inputs (`caller` is the preset, e.g. `auth0.client`). An option of
 * the function the result is for, given to the preset, is named as such, with where it goes:
 * `auth0: unknown option "realm" (an option of requireAuth: requireAuth({ ...auth0({ ... }), realm }))`.
 */
export function presetReader<T extends object>(options: T, names: KnownOptions<T>, caller: string, target: keyof typeof TARGET_OPTIONS): OptionReader<T> {
  const elsewhere: Record<string, string> = {};
  for (const name of TARGET_OPTIONS[target]) {
    if (!Object.hasOwn(names, name)) elsewhere[name] = `an option of ${target}: ${target}({ ...${caller}({ ... }), ${name} })`;
  }
  return new OptionReader<T>(options, names, { caller, elsewhere });
}

/** A host name with an optional port, as providers show their domains (`tenant.us.auth0.com`). */
const HOST = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?$/i;

/**
 * A provider's base URL, without a trailing slash: `name` holds a host name (`https://` is
 * prepended) or an absolute URL (plain http only on loopback, as every URL option).
 */
export function readBase<T extends object>(read: OptionReader<T>, name: keyof T & string, example: string): string | undefined {
  const value = read.raw(name);
  if (value === undefined) return undefined;
  if (typeof value === 'string' && HOST.test(value)) return `https://${value.toLowerCase()}`;
  if (typeof value === 'string' && value.includes('://')) {
    const url = new URL(read.httpUrl(name) as string);
    if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') read.fail(name, 'must not have a query, a fragment or userinfo');
    return url.href.replace(/\/+$/, '');
  }
  return read.fail(name, `must be a host name like ${example} (or an absolute URL)`);
}

/** A URL option (plain http only on loopback), without a trailing slash. */
export function readUrl<T extends object>(read: OptionReader<T>, name: keyof T & string, fallback: string): string {
  const value = read.httpUrl(name);
  return (value ?? fallback).replace(/\/+$/, '');
}

/** A required non-empty string (or list of them), as a list. */
export function readList<T extends object>(read: OptionReader<T>, name: keyof T & string, why?: string): string[] | undefined {
  const list = read.stringList(name, { string: 'single', expected: 'a non-empty string or an array of non-empty strings' });
  if (list === undefined && why !== undefined) read.required(name, why);
  return list;
}

/** Whether a claim (a string or an array of strings) holds one of `accepted`. */
export function holdsOneOf(value: unknown, accepted: readonly string[]): boolean {
  if (typeof value === 'string') return accepted.includes(value);
  return Array.isArray(value) && value.some((item) => typeof item === 'string' && accepted.includes(item));
}

/** Refuses the token (401 `invalid_token`) with a description that names the likely mistake. */
export function refuse(payload: DeepReadonly<JWTPayload>, claim: string, code: JwtErrorCode, description: string, expected?: unknown): never {
  const record = payload as Readonly<Record<string, unknown>>;
  throw invalidToken(code, description, mismatch(record, claim, expected, record[claim]));
}

/** The code of a refusal about `claim`. */
export function codeFor(claim: string, value: unknown): JwtErrorCode {
  if (value === undefined) return 'ERR_JWT_CLAIM_MISSING';
  return claim === 'aud' ? 'ERR_JWT_AUDIENCE' : claim === 'iss' ? 'ERR_JWT_ISSUER' : 'ERR_JWT_CLAIM_INVALID';
}

/** A claim rule: the claim names one of the allowed clients, else a refusal naming where to look. */
export function clientRule(claim: string, allowed: readonly string[], provider: string) {
  return (value: unknown, payload: DeepReadonly<JWTPayload>): boolean => {
    if (typeof value === 'string' && allowed.includes(value)) return true;
    return refuse(payload, claim, codeFor(claim, value), value === undefined
      ? `the token has no '${claim}' claim: ${provider} puts the client's id there in access tokens; is this an access token?`
      : `the token was issued to a client that is not allowed here ('${claim}' claim): add its client id to "clients"`, allowed.join(' '));
  };
}
