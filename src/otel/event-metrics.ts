/**
 * Internal: how each event becomes metrics, one row per event type. A new event type is one row
 * here (and, for a new counter, one entry in metric-definitions.ts). Attributes are low
 * cardinality: codes, outcomes and configured identifiers (JWKS URI, client id, audience), never
 * a token, a subject or a URL a client sent.
 */
import type { Attributes } from '@opentelemetry/api';
import type { ObservedEvent } from '../observability/observed-event.js';
import type { CounterName } from './metric-definitions.js';

/** What a row may do: add to a counter, and note times the gauges read. */
export interface MetricSink {
  count(name: CounterName, attributes: Attributes): void;
  /** The last successful JWKS fetch of `uri` was now. */
  keysFetched(uri: string): void;
  /** The token at hand of this subject expires at `expiresAt` (epoch ms). */
  tokenHeld(subject: OutboundSubject, expiresAt: number): void;
}

/** Which token an outbound event is about. */
export interface OutboundSubject {
  readonly clientId: string;
  readonly audience: string | undefined;
}

type EventOf<T extends ObservedEvent['type']> = Extract<ObservedEvent, { type: T }>;
type Rows = { readonly [T in ObservedEvent['type']]?: (event: EventOf<T>, sink: MetricSink) => void };

const OUTCOME = 'express_m2m.outcome';
const ERROR = 'error.type';
const JWKS = 'express_m2m.jwks.uri';

/** The attributes naming an outbound token: client and audience (when there is one). */
export function outboundAttributes(subject: OutboundSubject, more: Attributes = {}): Attributes {
  const attributes: Attributes = { 'express_m2m.client_id': subject.clientId, ...more };
  if (subject.audience !== undefined) attributes['express_m2m.audience'] = subject.audience;
  return attributes;
}

export const EVENT_METRICS: Rows = {
  // inbound
  'verification.succeeded': (e, m) => {
    m.count('express_m2m.inbound.verifications', { [OUTCOME]: 'accepted', 'express_m2m.verifier': e.verifier });
    m.count('express_m2m.inbound.verified_token_cache.lookups', { 'express_m2m.cache.result': e.cached ? 'hit' : 'miss', 'express_m2m.verifier': e.verifier });
  },
  'verification.rejected': (e, m) => m.count('express_m2m.inbound.verifications', { [OUTCOME]: 'rejected', [ERROR]: e.code }),
  'verification.cache_flushed': (_e, m) => m.count('express_m2m.inbound.verified_token_cache.flushes', {}),
  'verification.discovery_failed': (e, m) => m.count('express_m2m.inbound.discovery.failures', { 'express_m2m.issuer': e.issuerBaseURL }),
  'auth.rejected': (e, m) => {
    m.count('express_m2m.inbound.rejections', { 'http.response.status_code': e.status, [ERROR]: e.code });
    if (e.code === 'ERR_DPOP_REPLAYED') m.count('express_m2m.inbound.dpop.replays', {});
    else if (e.code === 'ERR_DPOP_NONCE') m.count('express_m2m.inbound.dpop.nonce_challenges', {});
  },
  'dpop.replay_store_failed': (_e, m) => m.count('express_m2m.inbound.dpop.replay_store_failures', {}),
  'auth.unexpected_error': (_e, m) => m.count('express_m2m.inbound.unexpected_errors', {}),
  'introspection.completed': (e, m) => m.count('express_m2m.inbound.introspections', { [OUTCOME]: e.active ? 'active' : 'inactive' }),
  'introspection.failed': (_e, m) => m.count('express_m2m.inbound.introspections', { [OUTCOME]: 'failure' }),
  // keys
  'keys.fetched': (e, m) => {
    m.count('express_m2m.keys.fetches', { [OUTCOME]: 'success', [JWKS]: e.uri });
    m.keysFetched(e.uri);
  },
  'keys.fetch_failed': (e, m) => m.count('express_m2m.keys.fetches', { [OUTCOME]: 'failure', [JWKS]: e.uri }),
  'keys.stale_used': (e, m) => m.count('express_m2m.keys.stale_uses', { [JWKS]: e.uri }),
  'keys.unknown_kid': (e, m) => m.count('express_m2m.keys.unknown_kids', { [JWKS]: e.uri, 'express_m2m.refetched': e.refetched }),
  'keys.key_skipped': (e, m) => m.count('express_m2m.keys.skipped_keys', { [JWKS]: e.uri }),
  // outbound
  'token.fetched': (e, m) => {
    m.count('express_m2m.outbound.token_requests', outboundAttributes(e, { [OUTCOME]: 'success' }));
    m.tokenHeld(e, e.expiresAt);
  },
  'token.refreshed': (e, m) => {
    m.count('express_m2m.outbound.token_requests', outboundAttributes(e, { [OUTCOME]: 'success' }));
    m.count('express_m2m.outbound.token_refreshes', outboundAttributes(e, { [OUTCOME]: 'success', 'express_m2m.background': e.background }));
    m.tokenHeld(e, e.expiresAt);
  },
  'token.cache_hit': (e, m) => {
    m.count('express_m2m.outbound.shared_cache.hits', outboundAttributes(e));
    m.tokenHeld(e, e.expiresAt);
  },
  'token.retry': (e, m) => m.count('express_m2m.outbound.token_retries', outboundAttributes(e, { [ERROR]: e.error.code })),
  'token.failed': (e, m) => m.count('express_m2m.outbound.token_requests', outboundAttributes(e, { [OUTCOME]: 'failure', [ERROR]: e.error.code })),
  'token.served_stale': (e, m) => {
    m.count('express_m2m.outbound.token_refreshes', outboundAttributes(e, { [OUTCOME]: 'failure', [ERROR]: e.error.code }));
    m.tokenHeld(e, e.expiresAt);
  },
  'token.latched': (e, m) => m.count('express_m2m.outbound.latched_failures', outboundAttributes(e, { [ERROR]: e.error.code })),
  'token.rejected_downstream': (e, m) => m.count('express_m2m.outbound.downstream_rejections', outboundAttributes(e, { 'express_m2m.retried': e.retried })),
  'cache.fallback': (e, m) => m.count('express_m2m.outbound.shared_cache.fallbacks', outboundAttributes(e)),
  'cache.recovered': (e, m) => m.count('express_m2m.outbound.shared_cache.recoveries', outboundAttributes(e)),
  'cache.entry_rejected': (e, m) => m.count('express_m2m.outbound.shared_cache.rejected_entries', outboundAttributes(e, { 'express_m2m.reason': e.reason })),
};

/** Hands `event` to its row (an event type without one is ignored). */
export function recordEvent(event: ObservedEvent, sink: MetricSink): void {
  const row = EVENT_METRICS[event.type] as ((event: ObservedEvent, sink: MetricSink) => void) | undefined;
  row?.(event, sink);
}
