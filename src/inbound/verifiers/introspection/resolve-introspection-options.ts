/**
 * Internal: the one place where the `introspection` option is validated and defaulted.
 */
import type { KnownOptions, OptionReader } from '../../../options/option-reader.js';
import type { ClientAuthenticator } from '../../../outbound/client-auth/client-authenticator.js';
import { readIntrospectionClient } from './client-authentication.js';
import type { IntrospectionCacheOptions, IntrospectionOptions } from './types.js';

/** Defaults, in one place (milliseconds; see {@link IntrospectionOptions} for why). */
export const INTROSPECTION_DEFAULTS = Object.freeze({
  tokens: 'opaque' as const,
  jwtResponse: false,
  cacheMaxAge: 60_000,
  cacheInactiveMaxAge: 10_000,
  cacheMaxEntries: 10_000,
  timeoutDuration: 5000,
  maxConcurrent: 16,
  maxQueued: 256,
  failureCooldownDuration: 5000,
});

/** Every name of the `introspection` option. */
export const INTROSPECTION_OPTION_NAMES: KnownOptions<IntrospectionOptions> = {
  endpoint: true, clientId: true, clientSecret: true, privateKey: true, privateKeyAlg: true, privateKeyKid: true,
  authMethod: true, tokens: true, jwtResponse: true, cache: true, timeoutDuration: true, maxConcurrent: true,
  maxQueued: true, failureCooldownDuration: true,
};

const CACHE_OPTION_NAMES: KnownOptions<IntrospectionCacheOptions> = { maxAge: true, inactiveMaxAge: true, maxEntries: true };

/** The `introspection` option, validated, with defaults. */
export interface ResolvedIntrospection {
  /** The configured endpoint; `undefined`: discovered. */
  endpoint: string | undefined;
  clientId: string;
  authenticate: ClientAuthenticator;
  tokens: 'opaque' | 'all';
  jwtResponse: boolean;
  /** `maxEntries` 0: nothing cached. */
  cache: { maxAge: number; inactiveMaxAge: number; maxEntries: number };
  timeoutDuration: number;
  maxConcurrent: number;
  maxQueued: number;
  failureCooldownDuration: number;
}

/** Reads the `introspection` option (`read` is its nested reader). Throws a `TypeError` naming the option. */
export function resolveIntrospectionOptions(read: OptionReader<IntrospectionOptions>, allowInsecure: boolean, now: () => number): ResolvedIntrospection {
  const d = INTROSPECTION_DEFAULTS;
  const endpoint = read.httpUrl('endpoint', allowInsecure);
  const { clientId, authenticate } = readIntrospectionClient(read, now);
  const cacheOption = read.raw('cache');
  let cache: ResolvedIntrospection['cache'] = { maxAge: d.cacheMaxAge, inactiveMaxAge: d.cacheInactiveMaxAge, maxEntries: d.cacheMaxEntries };
  if (cacheOption === false) cache = { ...cache, maxEntries: 0 };
  else if (cacheOption !== undefined) {
    if (typeof cacheOption !== 'object' || cacheOption === null || Array.isArray(cacheOption)) {
      read.fail('cache', 'must be false or an object like { maxAge: 60000, inactiveMaxAge: 10000, maxEntries: 10000 }');
    }
    const nested = read.nested('cache', CACHE_OPTION_NAMES);
    cache = {
      maxAge: nested.duration('maxAge', d.cacheMaxAge),
      inactiveMaxAge: nested.duration('inactiveMaxAge', d.cacheInactiveMaxAge, { zero: true }),
      maxEntries: nested.integer('maxEntries', d.cacheMaxEntries),
    };
  }
  return {
    endpoint,
    clientId,
    authenticate,
    tokens: read.oneOf('tokens', ['opaque', 'all'], d.tokens),
    jwtResponse: read.boolean('jwtResponse', d.jwtResponse),
    cache,
    timeoutDuration: read.duration('timeoutDuration', d.timeoutDuration),
    maxConcurrent: read.integer('maxConcurrent', d.maxConcurrent),
    maxQueued: read.integer('maxQueued', d.maxQueued, { min: 0 }),
    failureCooldownDuration: read.duration('failureCooldownDuration', d.failureCooldownDuration, { zero: true }),
  };
}
