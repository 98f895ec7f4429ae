/**
 * Internal: every metric of `express-m2m/otel`, with its stable name, unit and description: one
 * meter (`express-m2m`), names `express_m2m.<side>.<what>` (side: `inbound`, `keys`, `outbound`),
 * plural nouns for counters (a Prometheus exporter adds `_total`), UCUM units. docs/observability.md
 * lists the same table; test/otel checks that the two agree.
 */

/** A counter: its unit and what one increment means. */
interface CounterDefinition {
  readonly unit: string;
  readonly description: string;
}

export const COUNTERS = {
  'express_m2m.inbound.verifications': { unit: '{verification}', description: 'Token verifications by outcome (accepted, rejected) and, for a rejection, its code (error.type)' },
  'express_m2m.inbound.verified_token_cache.lookups': { unit: '{lookup}', description: 'Verifications of valid tokens answered from the verified-token (or introspection) cache (hit) or not (miss)' },
  'express_m2m.inbound.verified_token_cache.flushes': { unit: '{flush}', description: 'Verified-token cache flushes because the keys changed' },
  'express_m2m.inbound.rejections': { unit: '{request}', description: 'Rejected requests (requireAuth and the guards after it) by HTTP status and code' },
  'express_m2m.inbound.unexpected_errors': { unit: '{error}', description: 'Verifications that failed with something other than a rejection (a bug or an unexpected failure; answered 401)' },
  'express_m2m.inbound.discovery.failures': { unit: '{failure}', description: 'Failed metadata discovery fetches by issuer' },
  'express_m2m.inbound.introspections': { unit: '{call}', description: 'Token introspection calls by outcome (active, inactive, failure)' },
  'express_m2m.keys.fetches': { unit: '{fetch}', description: 'JWKS fetches by outcome (success, failure) and JWKS URI' },
  'express_m2m.keys.stale_uses': { unit: '{use}', description: 'Verifications with keys past their max age, during an issuer outage (bounded by jwks.maxStale)' },
  'express_m2m.keys.unknown_kids': { unit: '{lookup}', description: 'Tokens naming a kid the key set does not have, by whether the key set was fetched again' },
  'express_m2m.keys.skipped_keys': { unit: '{key}', description: 'Keys of a fetched JWKS that could not be used (skipped)' },
  'express_m2m.outbound.token_requests': { unit: '{request}', description: 'Token acquisitions from the token endpoint by outcome (retries within one are counted apart)' },
  'express_m2m.outbound.token_retries': { unit: '{retry}', description: 'Transient token endpoint failures retried, by code' },
  'express_m2m.outbound.token_refreshes': { unit: '{refresh}', description: 'Replacements of a still-usable token (ahead of expiry, or forced) by outcome' },
  'express_m2m.outbound.latched_failures': { unit: '{call}', description: 'Callers given a latched failure without a request (no usable token, failure cooldown running)' },
  'express_m2m.outbound.shared_cache.hits': { unit: '{hit}', description: 'Tokens taken from the shared cache (stored by another provider or process)' },
  'express_m2m.outbound.shared_cache.fallbacks': { unit: '{fallback}', description: 'Times the shared cache failed and the provider fell back to its own memory' },
  'express_m2m.outbound.shared_cache.recoveries': { unit: '{recovery}', description: 'Times the shared cache worked again after a fallback' },
  'express_m2m.outbound.shared_cache.rejected_entries': { unit: '{entry}', description: 'Shared cache entries not believed (integrity, expired, audience, failure_marker)' },
  'express_m2m.outbound.downstream_rejections': { unit: '{response}', description: 'Downstream 401 invalid_token answers to provider.fetch(), by whether the call was retried with a new token' },
  'express_m2m.inbound.dpop.replays': { unit: '{proof}', description: 'DPoP proofs refused as replays (a jti seen before within its window)' },
  'express_m2m.inbound.dpop.nonce_challenges': { unit: '{challenge}', description: 'Requests answered with a DPoP use_dpop_nonce challenge' },
  'express_m2m.inbound.dpop.replay_store_failures': { unit: '{failure}', description: 'DPoP requests answered 503 because the replay store could not be reached' },
  // Reserved: the outbound side has no event for its nonce retries yet.
  'express_m2m.outbound.dpop.nonce_retries': { unit: '{retry}', description: 'Reserved (no event yet): outbound requests retried with a server-provided DPoP nonce' },
} as const satisfies Record<string, CounterDefinition>;

/** The name of a counter. */
export type CounterName = keyof typeof COUNTERS;

export const GAUGES = {
  'express_m2m.keys.time_since_fetch': { unit: 's', description: 'Seconds since the last successful JWKS fetch, per JWKS URI' },
  'express_m2m.outbound.token.time_to_expiry': { unit: 's', description: 'Seconds until the token at hand expires, per client and audience (negative: expired)' },
} as const;
