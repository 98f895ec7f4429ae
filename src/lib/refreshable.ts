/**
 * Internal: the one "single flight, cooldown after failure, serve stale" mechanism, used by
 * metadata discovery, the remote JWKS and the token cache. One vocabulary for all three:
 *
 * - a **load** fetches the value once (one attempt, or whatever the loader counts as one);
 * - **single flight**: at most one load is in flight; every caller meanwhile joins it;
 * - a loaded value is **fresh** until `refreshAt`, **due** (still served, and a read starts a
 *   refresh in the background) until `expiresAt`, then **expired**: a read waits for a load,
 *   unless the last load failed (an outage), when the value is served **stale** until
 *   `staleUntil`. Past `staleUntil` it is never served;
 * - after a failed load the value **cools down**: until `retryAt` no load starts, and callers
 *   that need one get the failure at once (no request). The cooldown after the n-th consecutive
 *   failure comes from the owner's `cooldown` function (a fixed time, or a backoff).
 *
 * State is the loaded value with its times, the last failure with its time, and the flight; the
 * phases are derived from them and the clock, never stored.
 */

/** A loaded value and the times (epoch milliseconds) that govern it. */
export interface Loaded<T> {
  readonly value: T;
  /** From then on a read starts a background refresh (and still gets the value). */
  readonly refreshAt: number;
  /** From then on the value is expired: served only stale, during an outage. */
  readonly expiresAt: number;
  /** The value is never served from then on. */
  readonly staleUntil: number;
}

/** The last load failed: what with, when, the how-manieth failure in a row, and until when loads are held off. */
export interface LoadFailure {
  readonly error: unknown;
  readonly at: number;
  readonly count: number;
  readonly retryAt: number;
}

/** What a read got: the value, and whether it is served stale (past `expiresAt`, during an outage). */
export interface Served<T> {
  readonly value: T;
  readonly stale: boolean;
}

/** Where a loaded value is at a given time. */
export type Phase = 'missing' | 'fresh' | 'due' | 'expired' | 'gone';

export interface RefreshableOptions<T, A> {
  /** One load. Its rejection is the failure that callers get (and that cools down). */
  load(argument: A): Promise<Loaded<T>>;
  now(): number;
  /** How long after the `count`-th consecutive failure no load starts, in milliseconds. */
  cooldown(count: number, error: unknown): number;
  /** Called once per successful load, once its value is the loaded one, with the load's argument. Must not throw. */
  onLoaded?(loaded: Loaded<T>, argument: A): void;
  /** Called once per failed load, after the failure is recorded, with the load's argument. Must not throw. */
  onFailure?(failure: LoadFailure, argument: A): void;
}

/**
 * A cooldown that starts at `first` and doubles with each consecutive failure, up to `cap`
 * (milliseconds): a service that starts before its issuer recovers within about a second of the
 * issuer coming up, while a long outage costs one attempt per `cap`.
 */
export function doublingCooldown(first: number, cap: number): (count: number) => number {
  return (count) => Math.min(cap, first * 2 ** Math.min(count - 1, 30));
}

export class Refreshable<T, A = void> {
  private readonly options: RefreshableOptions<T, A>;
  private current: Loaded<T> | undefined;
  private lastFailure: LoadFailure | undefined;
  private flight: Promise<Loaded<T>> | undefined;
  private startedAt = Number.NEGATIVE_INFINITY;

  constructor(options: RefreshableOptions<T, A>) {
    this.options = options;
  }

  /** The value loaded last, with its times (undefined before the first load and after {@link drop}). */
  get loaded(): Loaded<T> | undefined {
    return this.current;
  }

  /** The last load failed (cleared by the next success). */
  get failure(): LoadFailure | undefined {
    return this.lastFailure;
  }

  /** The load in flight, if any. */
  get inFlight(): Promise<Loaded<T>> | undefined {
    return this.flight;
  }

  /** When the last load started (epoch milliseconds; -Infinity before the first). */
  get lastStartedAt(): number {
    return this.startedAt;
  }

  /** Until when no load starts because the last one failed, if that is so at `now`. */
  coolingDownUntil(now: number): number | undefined {
    const failure = this.lastFailure;
    return failure !== undefined && now < failure.retryAt ? failure.retryAt : undefined;
  }

  phase(now: number): Phase {
    const loaded = this.current;
    if (loaded === undefined) return 'missing';
    if (now < loaded.refreshAt) return 'fresh';
    if (now < loaded.expiresAt) return 'due';
    return now < loaded.staleUntil ? 'expired' : 'gone';
  }

  /**
   * The value for a reader at `now`: synchronously when it may be served (fresh; due, starting a
   * background refresh; expired during an outage, stale, likewise), otherwise the outcome of a load
   * (joined or started), served stale when the load fails and the value is still within its
   * stale window. Cooling down with nothing to serve: throws the failure synchronously (no
   * promise, no request: cheap during an outage).
   */
  read(now: number, argument: A): Served<T> | Promise<Served<T>> {
    const loaded = this.current;
    switch (this.phase(now)) {
      case 'fresh':
        return { value: (loaded as Loaded<T>).value, stale: false };
      case 'due':
        this.refreshInBackground(now, argument);
        return { value: (loaded as Loaded<T>).value, stale: false };
      case 'expired':
        if (this.lastFailure !== undefined) {
          this.refreshInBackground(now, argument);
          return { value: (loaded as Loaded<T>).value, stale: true };
        }
        break;
      case 'gone':
        this.drop();
        break;
      case 'missing':
        break;
    }
    if (this.flight === undefined && this.coolingDownUntil(now) !== undefined) throw (this.lastFailure as LoadFailure).error;
    return this.refresh(argument).then(
      (fresh) => ({ value: fresh.value, stale: false }),
      (error: unknown) => {
        const kept = this.current;
        if (kept !== undefined && this.options.now() < kept.staleUntil) return { value: kept.value, stale: true };
        throw error;
      },
    );
  }

  /**
   * Single flight: joins the load in flight, or starts one. While cooling down (and nothing is in
   * flight) it rejects with the last failure without loading.
   */
  refresh(argument: A): Promise<Loaded<T>> {
    if (this.flight === undefined && this.coolingDownUntil(this.options.now()) !== undefined) {
      return Promise.reject((this.lastFailure as LoadFailure).error);
    }
    return this.reload(argument);
  }

  /** Single flight, without regard to a cooldown: for an explicit request (a warm-up at start-up). */
  reload(argument: A): Promise<Loaded<T>> {
    if (this.flight !== undefined) return this.flight;
    this.startedAt = this.options.now();
    const flight = this.run(argument).finally(() => {
      if (this.flight === flight) this.flight = undefined;
    });
    flight.catch(() => undefined); // a background load may have no one waiting on it
    this.flight = flight;
    return flight;
  }

  /** Starts a load nobody waits for, unless one is in flight or the last failure still cools down. */
  refreshInBackground(now: number, argument: A): void {
    if (this.flight !== undefined || this.coolingDownUntil(now) !== undefined) return;
    this.refresh(argument).catch(() => undefined);
  }

  /** Forgets the loaded value (past its stale window, or replaced by the owner's decision). */
  drop(): void {
    this.current = undefined;
  }

  private async run(argument: A): Promise<Loaded<T>> {
    try {
      const loaded = await this.options.load(argument);
      this.current = loaded;
      this.lastFailure = undefined;
      this.options.onLoaded?.(loaded, argument);
      return loaded;
    } catch (error) {
      const at = this.options.now();
      const count = (this.lastFailure?.count ?? 0) + 1;
      const failure: LoadFailure = { error, at, count, retryAt: at + this.options.cooldown(count, error) };
      this.lastFailure = failure;
      this.options.onFailure?.(failure, argument);
      throw error;
    }
  }
}
