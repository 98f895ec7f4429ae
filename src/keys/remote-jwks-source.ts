/**
 * Internal: the key source of a remote JWK Set. One cache, one policy:
 *
 * - The fetched key set is the single source of truth: parsed `KeyObject`s indexed by `kid` and
 *   `alg`, fresh for the response's `Cache-Control: max-age` within bounds (else `cacheMaxAge`).
 * - A request that finds its key gets it synchronously. Near the end of the lifetime it also
 *   starts a background refresh (refresh-ahead); it never waits for it.
 * - All fetches are single-flight: concurrent callers share the one request in flight.
 * - A `kid` that is not in the set triggers at most one refetch per `cooldownDuration`; a `kid`
 *   that a completed fetch did not contain is remembered (negative cache, bounded) until the set
 *   it was checked against is no longer fresh or the keys change, so repeating it costs nothing
 *   and does not use up the cooldown a genuinely new kid may need.
 * - Outages: after a failed fetch, the last key set keeps serving for `maxStale` past its
 *   lifetime (`keys.stale_used`); no new fetch for `cooldownDuration`; requests that cannot get a
 *   key get `KeySourceUnavailableError` (503) with `Retry-After` = the rest of the cooldown.
 * - An empty `keys` array is a valid answer (the issuer revoked every key); a non-empty one
 *   without a single usable key counts as a failed fetch, like HTML or a 500.
 * - An expired set with no outage known (an idle service) makes the next request wait for the
 *   refresh, so a key removed from the JWKS is not used again after its lifetime.
 * - `freshUntil` says until when `getKey` keeps answering the same without fetching (the start of
 *   the refresh-ahead window, or the end of a failure cooldown), so the verified-token cache
 *   sends every token back through `getKey` then: refresh-ahead and expiry apply to cached tokens.
 */
import { isHttpUrl } from '../lib/urls.js';
import type { KeyObject } from 'node:crypto';
import { KeySourceUnavailableError } from '../errors/index.js';
import { withoutStack } from '../errors/without-stack.js';
import { UpstreamError } from '../lib/http.js';
import { ASYMMETRIC_ALGORITHMS } from './algorithms.js';
import { freshnessLifetime } from './cache-control.js';
import { importJwk, type KeyEntry } from './import-jwk.js';
import { algNotSupported, eventKid, keyAlgMismatch, multipleMatchingKeys, noMatchingKey } from './key-errors.js';
import { KeySet } from './key-set.js';
import { createJwksRetriever, type JwksRetrieval } from './jwks-retriever.js';
import type { ResolvedJwksOptions } from './options.js';
import type { KeySelector, KeySource, KeySourceEvent } from './types.js';

const ALGORITHMS = new Set<string>(ASYMMETRIC_ALGORITHMS);
const WHERE = "the issuer's JWKS";
/** Placeholder `uri` in events before a lazily discovered `jwks_uri` is known. */
const UNRESOLVED_URI = '(jwks_uri from discovery)';

export interface RemoteJwksSourceOptions {
  jwksUri: string | (() => Promise<string>);
  jwks: ResolvedJwksOptions;
  emit: (event: KeySourceEvent) => void;
  now: () => number;
}

export class RemoteJwksKeySource implements KeySource {
  readonly algorithms: readonly string[] = ASYMMETRIC_ALGORITHMS;

  private readonly jwksUri: string | (() => Promise<string>);
  private readonly options: ResolvedJwksOptions;
  private readonly emit: (event: KeySourceEvent) => void;
  private readonly now: () => number;

  private keySet: KeySet | undefined;
  private fetchedAt = 0;
  private refreshAt = 0;
  private expiresAt = 0;
  private usableUntil = 0;
  /** See {@link KeySource.freshUntil}: never later than `usableUntil`. */
  private fresh = Number.NEGATIVE_INFINITY;
  private currentGeneration = 0;
  private lastFetchStartedAt = Number.NEGATIVE_INFINITY;
  /** The latest fetch failed (cleared by a success). */
  private failure: { error: Error; at: number } | undefined;
  private inFlight: Promise<void> | undefined;
  /** kid -> until when it is known to be absent. Insertion order = age, for eviction. */
  private readonly unknownKids = new Map<string, number>();
  private retriever: { uri: string; retrieve: () => Promise<JwksRetrieval> } | undefined;
  private uri: string;
  private closed = false;

  constructor(options: RemoteJwksSourceOptions) {
    this.jwksUri = options.jwksUri;
    this.options = options.jwks;
    this.emit = options.emit;
    this.now = options.now;
    this.uri = typeof options.jwksUri === 'string' ? options.jwksUri : UNRESOLVED_URI;
  }

  /**
   * A plain read. Keys past their stale window are dropped (and the generation bumped) by the
   * lookup that finds them so; caches never serve past `freshUntil`, which is never later.
   */
  get generation(): number {
    return this.currentGeneration;
  }

  get freshUntil(): number {
    return this.fresh;
  }

  getKey(selector: KeySelector, now?: number): KeyObject | Promise<KeyObject> {
    const { alg } = selector;
    if (!ALGORITHMS.has(alg)) throw algNotSupported(alg, this.algorithms, WHERE);
    return this.resolve(selector, now ?? this.now(), true);
  }

  warmUp(): Promise<void> {
    if (this.keySet !== undefined && this.now() < this.refreshAt) return Promise.resolve();
    return this.refresh();
  }

  close(): void {
    this.closed = true;
  }

  /**
   * The key for `selector` at time `now`. `mayFetch` is false once a fetch was made for this
   * request: the answer then comes from what that fetch left.
   */
  private resolve(selector: KeySelector, now: number, mayFetch: boolean): KeyObject | Promise<KeyObject> {
    const { alg, kid } = selector;
    const keySet = this.keySet;
    if (keySet === undefined || now >= this.usableUntil) {
      if (keySet !== undefined) this.dropKeySet();
      if (!mayFetch) throw this.unavailable(now);
      return this.fetchThenResolve(selector, now);
    }

    const lookup = keySet.lookup(alg, kid);
    switch (lookup.status) {
      case 'found':
        if (now < this.refreshAt) return lookup.key;
        return this.serveAging(lookup.key, selector, now, mayFetch);
      case 'mismatch':
        throw keyAlgMismatch(kid, alg, lookup.reason);
      case 'ambiguous':
        throw multipleMatchingKeys(alg, WHERE);
      case 'unknown':
        return this.unknownKid(selector, now, mayFetch);
    }
  }

  /** A key was found but its set is in the refresh-ahead window, expired, or stale. */
  private serveAging(key: KeyObject, selector: KeySelector, now: number, mayFetch: boolean): KeyObject | Promise<KeyObject> {
    if (now < this.expiresAt) {
      this.refreshInBackground(now);
      return key;
    }
    if (this.failure === undefined && mayFetch) {
      // Expired without a known outage (nobody asked for a while): check the JWKS before trusting it again.
      return this.fetchThenResolve(selector, now);
    }
    // Expired during an outage: the bounded stale window.
    this.emit({ type: 'keys.stale_used', uri: this.uri, ageMs: now - this.fetchedAt });
    this.refreshInBackground(now);
    return key;
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
    if (this.failure !== undefined) {
      // The issuer could not be asked: the kid may be a new key we cannot see yet. Not the client's fault.
      if (!mayFetch || now - this.failure.at < this.options.cooldownDuration) throw this.unavailable(now);
    } else if (!mayFetch) {
      // A fetch made for this request did not bring the kid: remember that.
      this.rememberUnknownKid(name, now);
      throw noMatchingKey(kid, alg, WHERE);
    }
    if (this.inFlight !== undefined) return this.fetchThenResolve(selector, now);
    if (now - this.lastFetchStartedAt < this.options.cooldownDuration) {
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
    this.unknownKids.set(name, Math.max(this.expiresAt, now + this.options.cooldownDuration));
  }

  /** Fetches (or joins the fetch in flight), then answers from what it left. */
  private fetchThenResolve(selector: KeySelector, now: number): Promise<KeyObject> {
    if (this.inFlight === undefined && this.failure !== undefined && now - this.failure.at < this.options.cooldownDuration) {
      // Thrown synchronously: during an outage the rejection costs no promise and no request.
      throw this.unavailable(now);
    }
    const settle = (): KeyObject | Promise<KeyObject> => this.resolve(selector, this.now(), false);
    return this.refresh().then(settle, settle);
  }

  private refreshInBackground(now: number): void {
    if (this.closed || this.inFlight !== undefined) return;
    if (this.failure !== undefined && now - this.failure.at < this.options.cooldownDuration) return;
    this.refresh().catch(() => undefined);
  }

  /** Single-flight fetch of the key set. Rejects with the reason when it fails. */
  private refresh(): Promise<void> {
    if (this.inFlight !== undefined) return this.inFlight;
    this.lastFetchStartedAt = this.now();
    const inFlight = this.fetchKeySet().finally(() => {
      if (this.inFlight === inFlight) this.inFlight = undefined;
    });
    this.inFlight = inFlight;
    return inFlight;
  }

  private async fetchKeySet(): Promise<void> {
    try {
      const uri = await this.resolveUri();
      const { keys, cacheControl, age } = await this.retrieverFor(uri)();
      if (!Array.isArray(keys)) throw new UpstreamError(`${uri} did not answer with a JWK Set ("keys" is not an array)`);
      const entries: KeyEntry[] = [];
      for (const jwk of keys) {
        const imported = importJwk(jwk);
        if (imported.ok) entries.push(imported.entry);
        else this.emit({ type: 'keys.key_skipped', uri, kid: eventKid(imported.kid), reason: imported.reason });
      }
      // An empty set is the issuer's word (every key revoked); a set of only unusable keys is garbage.
      if (entries.length === 0 && keys.length > 0) throw new UpstreamError(`${uri} has no usable signature verification key`);
      this.install(new KeySet(entries), freshnessLifetime(cacheControl, age));
      this.emit({ type: 'keys.fetched', uri, keyCount: entries.length });
    } catch (caught) {
      const error = caught instanceof Error ? caught : new UpstreamError(`${this.uri} could not be fetched`, undefined, caught);
      const at = this.now();
      this.failure = { error, at };
      // Nothing changes for a key that is found until the cooldown ends (no new fetch before).
      if (this.keySet !== undefined) {
        this.fresh = Math.min(this.usableUntil, Math.max(this.refreshAt, at + this.options.cooldownDuration));
      }
      this.emit({ type: 'keys.fetch_failed', uri: this.uri, error });
      throw error;
    }
  }

  private install(keySet: KeySet, requestedLifetime: number | undefined): void {
    const { cacheMaxAge, minCacheMaxAge, maxCacheMaxAge, refreshAheadDuration, maxStale } = this.options;
    const lifetime = requestedLifetime === undefined
      ? cacheMaxAge
      : Math.min(maxCacheMaxAge, Math.max(minCacheMaxAge, requestedLifetime));
    const now = this.now();
    if (this.keySet === undefined || !this.keySet.sameKeysAs(keySet)) {
      this.currentGeneration += 1;
      this.unknownKids.clear();
      this.keySet = keySet;
    }
    // else: the same keys; keep the KeyObjects callers already hold (and may key caches on).
    this.fetchedAt = now;
    this.expiresAt = now + lifetime;
    this.refreshAt = this.expiresAt - Math.min(refreshAheadDuration, lifetime / 2);
    this.usableUntil = this.expiresAt + maxStale;
    this.fresh = this.refreshAt;
    this.failure = undefined;
  }

  private dropKeySet(): void {
    this.keySet = undefined;
    this.fresh = Number.NEGATIVE_INFINITY;
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
      throw new UpstreamError('the jwks_uri could not be discovered', undefined, error);
    }
    if (!isHttpUrl(uri)) {
      throw new UpstreamError('the discovered jwks_uri is not an http(s) URL');
    }
    this.uri = uri;
    return uri;
  }

  private retrieverFor(uri: string): () => Promise<JwksRetrieval> {
    if (this.retriever?.uri !== uri) {
      this.retriever = { uri, retrieve: createJwksRetriever(uri, this.options.timeoutDuration) };
    }
    return this.retriever.retrieve;
  }

  private unavailable(now: number): KeySourceUnavailableError {
    const failure = this.failure;
    const remaining = failure === undefined ? 0 : failure.at + this.options.cooldownDuration - now;
    const retryAfter = Math.max(1, Math.ceil(remaining / 1000));
    // No stack trace: during an outage every request that needs a fetch gets one of these.
    return withoutStack(() => new KeySourceUnavailableError(undefined, retryAfter, failure === undefined ? {} : { cause: failure.error }));
  }
}
