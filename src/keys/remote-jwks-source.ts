/**
 * Internal: the key source of a remote JWK Set. One cache, one policy, on the shared
 * single-flight / cooldown / serve-stale mechanism (`lib/refreshable.ts`):
 *
 * - The fetched key set is the single source of truth: parsed `KeyObject`s indexed by `kid` and
 *   `alg`, fresh for the response's `Cache-Control: max-age` within bounds (else `cacheMaxAge`).
 * - A request that finds its key gets it synchronously. Near the end of the lifetime (the set is
 *   due) it also starts a background refresh (refresh-ahead); it never waits for it.
 * - All fetches are single-flight: concurrent callers share the one request in flight.
 * - A `kid` that is not in the set triggers at most one refetch per `refetchInterval` (5 s), so
 *   a key the issuer has just published is found within it; a `kid` that a completed fetch did
 *   not contain is remembered (negative cache, bounded) for that interval, so repeating it costs
 *   nothing and does not use up the refetch a genuinely new kid may need.
 * - Outages: after a failed fetch, the last key set keeps serving stale for `maxStale` past its
 *   lifetime (`keys.stale_used`); no new fetch while the failure cools down (1 s after the first
 *   failure, doubling per consecutive failure up to `cooldownDuration`); requests that cannot get
 *   a key get `KeySourceUnavailableError` (503) with `Retry-After` = the rest of the cooldown.
 * - An empty `keys` array is a valid answer (the issuer revoked every key); a non-empty one
 *   without a single usable key counts as a failed fetch, like HTML or a 500.
 * - An expired set with no outage known (an idle service) makes the next request wait for the
 *   refresh, so a key removed from the JWKS is not used again after its lifetime.
 * - `freshUntil` says until when `getKey` keeps answering the same without fetching (the start of
 *   the refresh-ahead window, or the end of a failure cooldown), so the verified-token cache
 *   sends every token back through `getKey` then: refresh-ahead and expiry apply to cached tokens.
 */
import type { KeyObject } from 'node:crypto';
import { KeySourceUnavailableError } from '../errors/bearer-errors.js';
import { withoutStack } from '../errors/without-stack.js';
import { doublingCooldown, Refreshable, type Loaded } from '../lib/refreshable.js';
import { isHttpUrl } from '../lib/urls.js';
import { fetchJsonObject, UpstreamError } from '../transport/fetch-json.js';
import type { FetchLike } from '../transport/fetch-like.js';
import { ASYMMETRIC_ALGORITHMS } from './algorithms.js';
import { freshnessLifetime } from '../transport/cache-control.js';
import { importJwk, type KeyEntry } from './import-jwk.js';
import { algNotSupported, eventKid, keyAlgMismatch, keyIssuerMismatch, multipleMatchingKeys, noMatchingKey } from './key-errors.js';
import { KeySet } from './key-set.js';
import type { ResolvedJwksOptions } from './options.js';
import type { KeySelector, KeySource, KeySourceEvent } from './types.js';

const ALGORITHMS = new Set<string>(ASYMMETRIC_ALGORITHMS);
const WHERE = "the issuer's JWKS";
/** Placeholder `uri` in events before a lazily discovered `jwks_uri` is known. */
const UNRESOLVED_URI = '(jwks_uri from discovery)';
/** The cooldown after a first failed fetch; it doubles per consecutive failure up to `cooldownDuration`. */
const FIRST_COOLDOWN = 1000;

/** The cooldown of a failed discovery of the jwks_uri (its 503's `Retry-After`), in milliseconds. */
function discoveryCooldown(error: unknown): number | undefined {
  const cause = error instanceof UpstreamError ? error.cause : undefined;
  return cause instanceof KeySourceUnavailableError ? cause.retryAfter * 1000 : undefined;
}

export interface RemoteJwksSourceOptions {
  jwksUri: string | (() => Promise<string>);
  jwks: ResolvedJwksOptions;
  emit: (event: KeySourceEvent) => void;
  now: () => number;
  fetch: FetchLike;
}

/** A fetched key set and when it was fetched. */
interface FetchedKeys {
  readonly set: KeySet;
  readonly fetchedAt: number;
}

export class RemoteJwksKeySource implements KeySource {
  readonly algorithms: readonly string[] = ASYMMETRIC_ALGORITHMS;

  private readonly jwksUri: string | (() => Promise<string>);
  private readonly options: ResolvedJwksOptions;
  private readonly emit: (event: KeySourceEvent) => void;
  private readonly now: () => number;
  private readonly transport: FetchLike;
  private readonly keys: Refreshable<FetchedKeys>;
  private currentGeneration = 0;
  /** kid -> until when it is known to be absent. Insertion order = age, for eviction. */
  private readonly unknownKids = new Map<string, number>();
  private uri: string;
  private closed = false;

  constructor(options: RemoteJwksSourceOptions) {
    this.jwksUri = options.jwksUri;
    this.options = options.jwks;
    this.emit = options.emit;
    this.now = options.now;
    this.transport = options.fetch;
    this.uri = typeof options.jwksUri === 'string' ? options.jwksUri : UNRESOLVED_URI;
    const backoff = doublingCooldown(Math.min(FIRST_COOLDOWN, this.options.cooldownDuration), this.options.cooldownDuration);
    this.keys = new Refreshable<FetchedKeys>({
      load: () => this.fetchKeySet(),
      now: this.now,
      // A jwks_uri that could not be discovered cools down as discovery does, not as a JWKS outage:
      // both are then tried again at the same time, and Retry-After tells that time.
      cooldown: (count, error) => discoveryCooldown(error) ?? backoff(count),
      onFailure: ({ error }) => this.emit({ type: 'keys.fetch_failed', uri: this.uri, error: error as Error }),
    });
  }

  /**
   * A plain read. Keys past their stale window are dropped (and the generation bumped) by the
   * lookup that finds them so; caches never serve past `freshUntil`, which is never later.
   */
  get generation(): number {
    return this.currentGeneration;
  }

  /** The start of the refresh-ahead window, or while a failure cools down its end (within the stale window). */
  get freshUntil(): number {
    const loaded = this.keys.loaded;
    if (loaded === undefined) return Number.NEGATIVE_INFINITY;
    const failure = this.keys.failure;
    return failure === undefined ? loaded.refreshAt : Math.min(loaded.staleUntil, Math.max(loaded.refreshAt, failure.retryAt));
  }

  getKey(selector: KeySelector, now?: number): KeyObject | Promise<KeyObject> {
    const { alg } = selector;
    if (!ALGORITHMS.has(alg)) throw algNotSupported(alg, this.algorithms, WHERE);
    return this.resolve(selector, now ?? this.now(), true);
  }

  /** Fetches the keys unless they are fresh; an explicit warm-up tries again even while a failure cools down. */
  async warmUp(): Promise<void> {
    if (this.keys.phase(this.now()) === 'fresh') return;
    await this.keys.reload();
  }

  close(): void {
    this.closed = true;
  }

  /**
   * The key for `selector` at time `now`. `mayFetch` is false once a fetch was made for this
   * request: the answer then comes from what that fetch left.
   */
  private resolve(selector: KeySelector, now: number, mayFetch: boolean): KeyObject | Promise<KeyObject> {
    const { alg, kid, issuer } = selector;
    const phase = this.keys.phase(now);
    if (phase === 'missing' || phase === 'gone') {
      if (phase === 'gone') this.dropKeySet();
      if (!mayFetch) throw this.unavailable(now);
      return this.fetchThenResolve(selector, now);
    }
    const { set, fetchedAt } = (this.keys.loaded as Loaded<FetchedKeys>).value;
    const lookup = set.lookup(alg, kid, issuer);
    switch (lookup.status) {
      case 'found':
        if (phase === 'fresh') return lookup.key;
        if (phase === 'due') {
          this.refreshInBackground(now);
          return lookup.key;
        }
        if (this.keys.failure === undefined && mayFetch) {
          // Expired without a known outage (nobody asked for a while): check the JWKS before trusting it again.
          return this.fetchThenResolve(selector, now);
        }
        // Expired during an outage: the bounded stale window.
        this.emit({ type: 'keys.stale_used', uri: this.uri, ageMs: now - fetchedAt });
        this.refreshInBackground(now);
        return lookup.key;
      case 'mismatch':
        throw keyAlgMismatch(kid, alg, lookup.reason);
      case 'other-issuer':
        throw keyIssuerMismatch(kid, lookup.keyIssuer);
      case 'ambiguous':
        throw multipleMatchingKeys(alg, WHERE);
      case 'unknown':
        return this.unknownKid(selector, now, mayFetch);
    }
  }

  private unknownKid(selector: KeySelector, now: number, mayFetch: boolean): KeyObject | Promise<KeyObject> {
    const { alg, kid } = selector;
    const name = kid ?? '';
    const knownAbsentUntil = this.unknownKids.get(name);
    if (knownAbsentUntil !== undefined) {
      if (now < knownAbsentUntil) {
        this.emit({ type: 'keys.unknown_kid', uri: this.uri, kid: eventKid(kid), refetched: false });
        throw noMatchingKey(kid, alg, WHERE);
      }
      this.unknownKids.delete(name);
    }
    if (this.keys.failure !== undefined) {
      // The issuer could not be asked: the kid may be a new key we cannot see yet. Not the client's fault.
      if (!mayFetch || this.keys.coolingDownUntil(now) !== undefined) throw this.unavailable(now);
    } else if (!mayFetch) {
      // A fetch made for this request did not bring the kid: remember that.
      this.rememberUnknownKid(name, now);
      throw noMatchingKey(kid, alg, WHERE);
    }
    if (this.keys.inFlight !== undefined) return this.fetchThenResolve(selector, now);
    if (now - this.keys.lastStartedAt < this.options.refetchInterval) {
      this.emit({ type: 'keys.unknown_kid', uri: this.uri, kid: eventKid(kid), refetched: false });
      throw noMatchingKey(kid, alg, WHERE);
    }
    this.emit({ type: 'keys.unknown_kid', uri: this.uri, kid: eventKid(kid), refetched: true });
    return this.fetchThenResolve(selector, now);
  }

  private rememberUnknownKid(name: string, now: number): void {
    if (this.unknownKids.size >= this.options.maxUnknownKids) {
      const oldest = this.unknownKids.keys().next();
      if (!oldest.done) this.unknownKids.delete(oldest.value);
    }
    this.unknownKids.set(name, now + this.options.refetchInterval);
  }

  /** Fetches (or joins the fetch in flight), then answers from what it left. */
  private fetchThenResolve(selector: KeySelector, now: number): Promise<KeyObject> {
    if (this.keys.inFlight === undefined && this.keys.coolingDownUntil(now) !== undefined) {
      // Thrown synchronously: during an outage the rejection costs no promise and no request.
      throw this.unavailable(now);
    }
    const settle = (): KeyObject | Promise<KeyObject> => this.resolve(selector, this.now(), false);
    return this.keys.refresh().then(settle, settle);
  }

  private refreshInBackground(now: number): void {
    if (!this.closed) this.keys.refreshInBackground(now);
  }

  private async fetchKeySet(): Promise<Loaded<FetchedKeys>> {
    try {
      const uri = await this.resolveUri();
      const { body, headers } = await fetchJsonObject(this.transport, uri, this.options.timeoutDuration);
      const { keys } = body;
      if (!Array.isArray(keys)) throw new UpstreamError(`${uri} did not answer with a JWK Set ("keys" is not an array)`);
      const entries: KeyEntry[] = [];
      for (const jwk of keys) {
        const imported = importJwk(jwk);
        if (imported.ok) entries.push(imported.entry);
        else this.emit({ type: 'keys.key_skipped', uri, kid: eventKid(imported.kid), reason: imported.reason });
      }
      // An empty set is the issuer's word (every key revoked); a set of only unusable keys is garbage.
      if (entries.length === 0 && keys.length > 0) throw new UpstreamError(`${uri} has no usable signature verification key`);
      const loaded = this.install(new KeySet(entries), freshnessLifetime(headers.get('cache-control'), headers.get('age')));
      this.emit({ type: 'keys.fetched', uri, keyCount: entries.length });
      return loaded;
    } catch (caught) {
      throw caught instanceof Error ? caught : new UpstreamError(`${this.uri} could not be fetched`, undefined, caught);
    }
  }

  /** The times of a fetched set; the set kept as is when it holds the same keys (callers may key caches on its KeyObjects). */
  private install(fetched: KeySet, requestedLifetime: number | undefined): Loaded<FetchedKeys> {
    const { cacheMaxAge, minCacheMaxAge, maxCacheMaxAge, refreshAheadDuration, maxStale } = this.options;
    const lifetime = requestedLifetime === undefined
      ? cacheMaxAge
      : Math.min(maxCacheMaxAge, Math.max(minCacheMaxAge, requestedLifetime));
    const now = this.now();
    let set = this.keys.loaded?.value.set;
    if (set === undefined || !set.sameKeysAs(fetched)) {
      this.currentGeneration += 1;
      this.unknownKids.clear();
      set = fetched;
    }
    const expiresAt = now + lifetime;
    return {
      value: { set, fetchedAt: now },
      refreshAt: expiresAt - Math.min(refreshAheadDuration, lifetime / 2),
      expiresAt,
      staleUntil: expiresAt + maxStale,
    };
  }

  private dropKeySet(): void {
    this.keys.drop();
    this.currentGeneration += 1;
    this.unknownKids.clear();
  }

  private async resolveUri(): Promise<string> {
    if (typeof this.jwksUri === 'string') return this.jwksUri;
    let uri: unknown;
    try {
      uri = await this.jwksUri();
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      // The discovery's own error (the URL tried, the cause) is the 503's cause.
      const cause = (error as { cause?: unknown } | null)?.cause;
      const detail = cause instanceof UpstreamError ? `: ${cause.message}` : '';
      throw new UpstreamError(`the jwks_uri could not be discovered${detail}`, undefined, error, cause instanceof UpstreamError && cause.configuration);
    }
    if (!isHttpUrl(uri)) {
      throw new UpstreamError('the discovered jwks_uri is not an http(s) URL');
    }
    this.uri = uri;
    return uri;
  }

  private unavailable(now: number): KeySourceUnavailableError {
    const failure = this.keys.failure;
    const retryAt = this.keys.coolingDownUntil(now) ?? now;
    const retryAfter = Math.max(1, Math.ceil((retryAt - now) / 1000));
    // No stack trace: during an outage every request that needs a fetch gets one of these.
    return withoutStack(() => new KeySourceUnavailableError(undefined, retryAfter, failure === undefined ? {} : { cause: failure.error }));
  }
}
