/**
 * Internal: the log level of each event type (docs/observability.md "Logs" lists the same table;
 * test/observability checks that they agree). A new event type is one row; a type without a row
 * is logged at `info`.
 */
import type { ObservedEvent } from './observed-event.js';

/** The levels `logEvents` writes at (every logger it supports has these four), or `off`. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';

export const EVENT_LOG_LEVELS: { readonly [T in ObservedEvent['type']]: LogLevel } = {
  // inbound: a refused token is the client's problem (info); an issuer that cannot be reached is ours (error)
  'auth.rejected': 'info',
  'auth.unexpected_error': 'error',
  'verification.succeeded': 'debug',
  'verification.rejected': 'debug',
  'verification.discovery_failed': 'error',
  'verification.cache_flushed': 'info',
  'introspection.completed': 'debug',
  'introspection.failed': 'error',
  'keys.fetched': 'debug',
  'keys.fetch_failed': 'error',
  'keys.stale_used': 'warn',
  'keys.unknown_kid': 'info',
  'keys.key_skipped': 'warn',
  // DPoP: without its replay record the API refuses DPoP requests (503): ours to fix
  'dpop.replay_store_failed': 'error',
  // outbound
  'token.fetched': 'debug',
  'token.refresh_started': 'debug',
  'token.refreshed': 'debug',
  'token.cache_hit': 'debug',
  'token.retry': 'warn',
  'token.failed': 'error',
  'token.served_stale': 'warn',
  'token.latched': 'warn',
  'token.rejected_downstream': 'warn',
  'cache.fallback': 'warn',
  'cache.entry_rejected': 'warn',
  'cache.recovered': 'info',
};
