/**
 * `logEvents`: the library's events as log lines, for pino (and bunyan: `logger.info(object,
 * message)`), winston and `console` (`logger.info(message, object)`), one level per event type,
 * rate-limited per event type and code so that a flood of bad tokens cannot flood the log.
 */
import { OptionReader, type KnownOptions } from '../options/option-reader.js';
import { EVENT_LOG_LEVELS, type LogLevel } from './log-levels.js';
import { EVENT_SCHEMA_VERSION, type ObservedEvent } from './observed-event.js';


/**
 * What `logEvents` writes to: pino, bunyan, winston, `console`, or anything with `debug`, `info`,
 * `warn` and `error` methods.
 *
 * @example
 * ```ts
 * import type { EventLogger } from 'express-m2m';
 *
 * const logger: EventLogger = console;
 * ```
 */
export interface EventLogger {
  /** Writes a debug line. */
  debug(...args: unknown[]): unknown;
  /** Writes an info line. */
  info(...args: unknown[]): unknown;
  /** Writes a warning. */
  warn(...args: unknown[]): unknown;
  /** Writes an error line. */
  error(...args: unknown[]): unknown;
}

/**
 * Options of {@link logEvents}.
 *
 * @example
 * ```ts
 * import { logEvents, type LogEventsOptions } from 'express-m2m';
 *
 * const options: LogEventsOptions = {
 *   levels: { 'auth.rejected': 'debug', 'verification.succeeded': 'off' },
 *   rateLimit: { burst: 5, perMinute: 30 },
 * };
 * const onEvent = logEvents(console, options);
 * ```
 */
export interface LogEventsOptions {
  /**
   * How the logger takes its arguments: `object-first` (pino, bunyan: `logger.info(object,
   * message)`) or `message-first` (winston, `console`: `logger.info(message, object)`). Default:
   * `object-first` for a pino logger (it has `bindings()`), `message-first` otherwise.
   */
  style?: 'object-first' | 'message-first';
  /** The level of an event type, or `off`, over the default table (docs/observability.md). */
  levels?: Partial<Record<ObservedEvent['type'], LogLevel>> & Record<string, LogLevel>;
  /**
   * Lines per event type and code (a token bucket each): at most `burst` at once, refilled with
   * `perMinute` a minute. What is over is counted and reported in one `warn` line ("N events
   * suppressed") at the first event after each `summaryInterval` (ms). Default `{ burst: 10,
   * perMinute: 60, summaryInterval: 60000 }`; `false`: no limit.
   */
  rateLimit?: false | {
    /** Lines at once per event type and code. Default 10. */
    burst?: number;
    /** Lines a minute per event type and code, once the burst is spent. Default 60. */
    perMinute?: number;
    /** How often (ms) the "N events suppressed" line may be written. Default 60000. */
    summaryInterval?: number;
  };
  /** The clock (epoch milliseconds), for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * What {@link logEvents} returns: an `onEvent` hook, with `flush()` to write the pending
 * "suppressed" summary now (at shutdown, say).
 *
 * @example
 * ```ts
 * import { logEvents, type EventLog } from 'express-m2m';
 *
 * const log: EventLog = logEvents(console);
 * process.on('beforeExit', () => log.flush());
 * ```
 */
export interface EventLog {
  /** Logs one event (or counts it, over the rate limit). */
  (event: ObservedEvent): void;
  /** Writes the pending "N events suppressed" line, if any. */
  flush(): void;
}

const OPTION_NAMES: KnownOptions<LogEventsOptions> = { style: true, levels: true, rateLimit: true, now: true };
const RATE_LIMIT_NAMES: KnownOptions<{ burst: number; perMinute: number; summaryInterval: number }> = { burst: true, perMinute: true, summaryInterval: true };
const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'off'];
/** Most (type, code) buckets kept; the rest share one. */
const MAX_BUCKETS = 256;
const OVERFLOW = '(other)';

/** The stable code of an event, when it has one (the rate limit's key and the message's end). */
function codeOf(event: ObservedEvent): string | undefined {
  const record = event as { code?: unknown; error?: { code?: unknown }; reason?: unknown };
  if (typeof record.code === 'string') return record.code;
  if (typeof record.error?.code === 'string') return record.error.code;
  return undefined;
}

/** An error as a log may show it: name, code, status and message (library-made, secret-free); never its cause or stack. */
function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error).slice(0, 200) };
  const shown: Record<string, unknown> = { name: error.name, message: error.message };
  const { code, status } = error as { code?: unknown; status?: unknown };
  if (typeof code === 'string') shown.code = code;
  if (typeof status === 'number') shown.status = status;
  return shown;
}

/** The fields of a line: the event's own (errors reduced), and the schema version. */
function fieldsOf(event: ObservedEvent): Record<string, unknown> {
  const fields: Record<string, unknown> = { schema: EVENT_SCHEMA_VERSION };
  for (const [name, value] of Object.entries(event)) {
    fields[name] = name === 'error' ? errorFields(value) : value;
  }
  return fields;
}

/** The message of a line: `express-m2m <type>` with the status, code and route when the event has them. */
function messageOf(event: ObservedEvent): string {
  const parts = ['express-m2m', event.type];
  const { status, method, path } = event as { status?: unknown; method?: unknown; path?: unknown };
  if (typeof status === 'number') parts.push(String(status));
  const code = codeOf(event);
  if (code !== undefined) parts.push(code);
  if (typeof method === 'string' && typeof path === 'string') parts.push(method, path);
  return parts.join(' ');
}

function isPino(logger: object): boolean {
  return typeof (logger as { bindings?: unknown }).bindings === 'function';
}

/**
 * An `onEvent` hook that writes each event of `requireAuth`, `createVerifier`, `clientCredentials`
 * and `outboundAuth` as one structured line: the event's fields (an error as its name, code,
 * status and message) with `schema` (the event schema's version), at the level of its type
 * (docs/observability.md: a stale key is a warning, a rejected token info, an issuer outage an
 * error), at most `burst` lines at once and `perMinute` a minute per event type and code. No line
 * carries a token or a secret: the events carry none.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * import { clientCredentials, logEvents, requireAuth } from 'express-m2m';
 *
 * const onEvent = logEvents(pino());
 * app.use(requireAuth({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example', onEvent }));
 * const billing = clientCredentials({ tokenEndpoint: 'https://issuer.example/oauth/token', clientId: 'orders', clientSecret: 'placeholder', onEvent });
 * ```
 */
export function logEvents(logger: EventLogger, options?: LogEventsOptions): EventLog {
  if (typeof logger !== 'object' || logger === null || LEVELS.slice(0, 4).some((level) => typeof (logger as unknown as Record<string, unknown>)[level] !== 'function')) {
    throw new TypeError('logEvents: "logger" must have debug, info, warn and error methods (pino, winston, console)');
  }
  const read = new OptionReader<LogEventsOptions>(options, OPTION_NAMES, { caller: 'logEvents' });
  const style = read.oneOf('style', ['object-first', 'message-first'] as const) ?? (isPino(logger) ? 'object-first' : 'message-first');
  const levels: Record<string, LogLevel> = { ...EVENT_LOG_LEVELS };
  const given = read.raw('levels');
  if (given !== undefined) {
    if (typeof given !== 'object' || given === null) read.fail('levels', 'must be an object of event type -> level');
    for (const [type, level] of Object.entries(given as Record<string, unknown>)) {
      if (!LEVELS.includes(level as LogLevel)) read.fail('levels', `"${type}" must be one of ${LEVELS.join(', ')}`);
      levels[type] = level as LogLevel;
    }
  }
  const now = read.func<() => number>('now', 'a function returning milliseconds') ?? Date.now;
  const limit = read.raw('rateLimit') === false ? undefined : (() => {
    const nested = read.nested<{ burst: number; perMinute: number; summaryInterval: number }>('rateLimit', RATE_LIMIT_NAMES);
    return {
      burst: nested.integer('burst', 10, { min: 1 }),
      perMinute: nested.number('perMinute', 60),
      summaryInterval: nested.duration('summaryInterval', 60_000),
    };
  })();

  const write = (level: Exclude<LogLevel, 'off'>, message: string, fields: Record<string, unknown>): void => {
    const method = logger[level].bind(logger);
    if (style === 'object-first') method(fields, message);
    else method(message, fields);
  };

  const buckets = new Map<string, { tokens: number; at: number }>();
  const suppressed = new Map<string, number>();
  let windowStart = now();

  const flush = (): void => {
    windowStart = now();
    if (suppressed.size === 0) return;
    let total = 0;
    for (const count of suppressed.values()) total += count;
    const counts = Object.fromEntries(suppressed);
    suppressed.clear();
    write('warn', `express-m2m ${total} events suppressed (log rate limit)`, { schema: EVENT_SCHEMA_VERSION, type: 'log.suppressed', suppressed: counts, total });
  };

  /** Whether a line of this key may be written now (a token bucket per key). */
  const allowed = (key: string, at: number): boolean => {
    if (limit === undefined) return true;
    let bucketKey = key;
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      if (buckets.size >= MAX_BUCKETS) bucketKey = OVERFLOW;
      bucket = buckets.get(bucketKey) ?? { tokens: limit.burst, at };
      buckets.set(bucketKey, bucket);
    }
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((at - bucket.at) * limit.perMinute) / 60_000);
    bucket.at = at;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return true;
    }
    suppressed.set(bucketKey, (suppressed.get(bucketKey) ?? 0) + 1);
    return false;
  };

  const log = ((event: ObservedEvent) => {
    try {
      if (typeof event !== 'object' || event === null || typeof event.type !== 'string') return;
      const level = levels[event.type] ?? 'info';
      if (level === 'off') return;
      const at = now();
      if (limit !== undefined && at - windowStart >= limit.summaryInterval) flush();
      const code = codeOf(event);
      if (!allowed(code === undefined ? event.type : `${event.type} ${code}`, at)) return;
      write(level, messageOf(event), fieldsOf(event));
    } catch {
      // A logger's failure must not reach a request.
    }
  }) as EventLog;
  log.flush = flush;
  return log;
}
