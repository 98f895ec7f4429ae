/**
 * Refreshable (src/lib/refreshable.ts), the rules the mutation run (docs/mutation-testing.md)
 * needs pinned beyond test/lib/refreshable.test.ts: the doubling cooldown, a fresh read served at
 * once, what a joined load gives, a flight during a cooldown (joined, not refused), no background
 * load while cooling down, the stale window's end during a load, the failure's time and count,
 * the optional callbacks, and when the last load started.
 */
import { doublingCooldown, Refreshable, type Loaded, type LoadFailure } from '../../src/lib/refreshable.js';

interface Pending { argument: string; resolve: (value: Loaded<string>) => void; reject: (error: unknown) => void }

function setup(options: { callbacks?: boolean; cooldown?: (count: number, error: unknown) => number } = {}) {
  let now = 1_000_000;
  const loads: Pending[] = [];
  const failures: Array<{ failure: LoadFailure; argument: string }> = [];
  const loaded: Array<{ value: string; argument: string }> = [];
  const cooldowns: Array<{ count: number; error: unknown }> = [];
  const value = new Refreshable<string, string>({
    load: (argument) => new Promise((resolve, reject) => loads.push({ argument, resolve, reject })),
    now: () => now,
    cooldown: (count, error) => {
      cooldowns.push({ count, error });
      return (options.cooldown ?? ((n: number) => 1000 * n))(count, error);
    },
    ...(options.callbacks === false ? {} : {
      onLoaded: (result: Loaded<string>, argument: string) => { loaded.push({ value: result.value, argument }); },
      onFailure: (failure: LoadFailure, argument: string) => { failures.push({ failure, argument }); },
    }),
  });
  const times = (v: string) => ({ value: v, refreshAt: now + 100, expiresAt: now + 200, staleUntil: now + 300 });
  return { value, loads, failures, loaded, cooldowns, times, advance: (ms: number) => { now += ms; }, now: () => now };
}

/** Loads `v` through read() and waits for it. */
async function loadFirst(t: ReturnType<typeof setup>, v = 'v1'): Promise<void> {
  const first = t.value.read(t.now(), 'x') as Promise<unknown>;
  t.loads[t.loads.length - 1]!.resolve(t.times(v));
  await first;
}

describe('doublingCooldown', () => {
  test('starts at first, doubles per failure, stops at cap', () => {
    const cooldown = doublingCooldown(100, 1000);
    expect([1, 2, 3, 4, 5, 6, 50].map((count) => cooldown(count))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(doublingCooldown(250, 60_000)(1)).toBe(250);
  });

  test('a very long outage still gives a number (the exponent is capped)', () => {
    expect(doublingCooldown(0, 1000)(5000)).toBe(0);
    expect(doublingCooldown(1, Number.MAX_VALUE)(5000)).toBe(2 ** 30);
  });
});

describe('read(): what each phase serves', () => {
  test('fresh: the value at once, not stale, and no load', async () => {
    const t = setup();
    await loadFirst(t);
    t.advance(99);
    expect(t.value.read(t.now(), 'x')).toEqual({ value: 'v1', stale: false });
    expect(t.loads).toHaveLength(1);
  });

  test('missing: the loaded value once the load is done, not stale', async () => {
    const t = setup();
    const first = t.value.read(t.now(), 'a');
    expect(first).toBeInstanceOf(Promise);
    t.loads[0]!.resolve(t.times('v1'));
    await expect(first).resolves.toEqual({ value: 'v1', stale: false });
    expect(t.loads[0]!.argument).toBe('a');
  });

  test('expired during a known outage: stale at once, and no background load while cooling down', async () => {
    const t = setup();
    await loadFirst(t);
    t.advance(250);
    const waiting = t.value.read(t.now(), 'x');
    t.loads[1]!.reject(new Error('down'));
    await expect(waiting).resolves.toEqual({ value: 'v1', stale: true });
    // cooling down until now + 1000: stale reads start no load
    expect(t.value.read(t.now(), 'x')).toEqual({ value: 'v1', stale: true });
    expect(t.value.read(t.now(), 'x')).toEqual({ value: 'v1', stale: true });
    expect(t.loads).toHaveLength(2);
  });

  test('due during a cooldown: served, and no background load until the cooldown ends', async () => {
    const t = setup();
    await loadFirst(t);
    t.advance(120); // due
    expect(t.value.read(t.now(), 'x')).toEqual({ value: 'v1', stale: false });
    t.loads[1]!.reject(new Error('down')); // the background refresh fails
    await Promise.resolve();
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(t.value.failure).toBeDefined();
    expect(t.value.read(t.now(), 'x')).toEqual({ value: 'v1', stale: false });
    expect(t.loads).toHaveLength(2);
  });

  test('the stale window ends while the reader waits: the failure, not the value', async () => {
    const t = setup();
    await loadFirst(t);
    t.advance(250); // expired, no outage known: the reader waits
    const waiting = t.value.read(t.now(), 'x');
    t.advance(50); // now exactly staleUntil
    t.loads[1]!.reject(new Error('down'));
    await expect(waiting).rejects.toThrow('down');
  });

  test('one tick before the end of the stale window, the value is still served stale', async () => {
    const t = setup();
    await loadFirst(t);
    t.advance(250);
    const waiting = t.value.read(t.now(), 'x');
    t.advance(49);
    t.loads[1]!.reject(new Error('down'));
    await expect(waiting).resolves.toEqual({ value: 'v1', stale: true });
  });
});

describe('a load in flight during a cooldown is joined, not refused', () => {
  test('reload() during a cooldown: read() and refresh() join it instead of throwing', async () => {
    const t = setup();
    const first = t.value.refresh('x');
    t.loads[0]!.reject(new Error('down'));
    await expect(first).rejects.toThrow('down');
    expect(() => t.value.read(t.now(), 'x')).toThrow('down');
    const explicit = t.value.reload('x');
    expect(t.value.inFlight).toBe(explicit);
    expect(t.value.refresh('x')).toBe(explicit);
    const reading = t.value.read(t.now(), 'x');
    expect(reading).toBeInstanceOf(Promise);
    expect(t.loads).toHaveLength(2);
    t.loads[1]!.resolve(t.times('v2'));
    await expect(reading).resolves.toEqual({ value: 'v2', stale: false });
    expect(t.value.inFlight).toBeUndefined();
  });

  test('a settled flight is not joined: the next refresh starts a new load', async () => {
    const t = setup();
    const first = t.value.refresh('x');
    t.loads[0]!.resolve(t.times('v1'));
    await first;
    expect(t.value.inFlight).toBeUndefined();
    const second = t.value.refresh('x');
    expect(second).not.toBe(first);
    expect(t.loads).toHaveLength(2);
    t.loads[1]!.resolve(t.times('v2'));
    expect((await second).value).toBe('v2');
  });
});

describe('refreshInBackground(now): the cooldown is judged at the time it is given', () => {
  test('cooling down at `now`: no load, even when the clock has passed retryAt; not cooling down: one load', async () => {
    const t = setup();
    const failed = t.value.refresh('x');
    t.loads[0]!.reject(new Error('down'));
    await expect(failed).rejects.toThrow('down');
    const retryAt = t.now() + 1000;
    t.advance(1000);
    t.value.refreshInBackground(retryAt - 1, 'x');
    expect(t.loads).toHaveLength(1);
    expect(t.value.inFlight).toBeUndefined();
    t.value.refreshInBackground(retryAt, 'x');
    expect(t.loads).toHaveLength(2);
    t.value.refreshInBackground(retryAt, 'x');
    expect(t.loads).toHaveLength(2);
    t.loads[1]!.resolve(t.times('v1'));
    await t.value.inFlight;
    expect(t.value.loaded).toMatchObject({ value: 'v1' });
  });
});

describe('what a failure records, and the callbacks', () => {
  test('the failure: the error, the time it failed, the count in a row, retryAt from the cooldown of that count and error', async () => {
    const t = setup();
    const start = t.now();
    const flight = t.value.refresh('arg');
    t.advance(40);
    const error = new Error('down');
    t.loads[0]!.reject(error);
    await expect(flight).rejects.toBe(error);
    expect(t.value.failure).toEqual({ error, at: start + 40, count: 1, retryAt: start + 40 + 1000 });
    expect(t.failures).toEqual([{ failure: t.value.failure, argument: 'arg' }]);
    expect(t.cooldowns).toEqual([{ count: 1, error }]);
    expect(t.value.lastStartedAt).toBe(start);
  });

  test('onLoaded gets the value and the argument; a success clears the failure', async () => {
    const t = setup();
    const failed = t.value.refresh('a');
    t.loads[0]!.reject(new Error('down'));
    await expect(failed).rejects.toThrow('down');
    const ok = t.value.reload('b');
    t.loads[1]!.resolve(t.times('v1'));
    await ok;
    expect(t.loaded).toEqual([{ value: 'v1', argument: 'b' }]);
    expect(t.value.failure).toBeUndefined();
    expect(t.value.loaded).toMatchObject({ value: 'v1' });
  });

  test('without onLoaded and onFailure, loads and failures work the same', async () => {
    const t = setup({ callbacks: false });
    const failed = t.value.refresh('x');
    t.loads[0]!.reject(new Error('down'));
    await expect(failed).rejects.toThrow('down');
    expect(t.value.failure).toMatchObject({ count: 1 });
    const ok = t.value.reload('x');
    t.loads[1]!.resolve(t.times('v1'));
    await expect(ok).resolves.toMatchObject({ value: 'v1' });
    expect(t.value.failure).toBeUndefined();
  });

  test('lastStartedAt: -Infinity before the first load, then the time each load started (a joined one does not restart it)', async () => {
    const t = setup();
    expect(t.value.lastStartedAt).toBe(Number.NEGATIVE_INFINITY);
    const start = t.now();
    const first = t.value.refresh('x');
    t.advance(10);
    t.value.refresh('x');
    expect(t.value.lastStartedAt).toBe(start);
    t.loads[0]!.resolve(t.times('v1'));
    await first;
    t.advance(10);
    const second = t.value.reload('x');
    expect(t.value.lastStartedAt).toBe(start + 20);
    t.loads[1]!.resolve(t.times('v2'));
    await second;
  });

  test('coolingDownUntil: the retryAt until it is reached, nothing before any failure', async () => {
    const t = setup();
    expect(t.value.coolingDownUntil(t.now())).toBeUndefined();
    const failed = t.value.refresh('x');
    t.loads[0]!.reject(new Error('down'));
    await expect(failed).rejects.toThrow('down');
    const retryAt = t.now() + 1000;
    expect(t.value.coolingDownUntil(retryAt - 1)).toBe(retryAt);
    expect(t.value.coolingDownUntil(retryAt)).toBeUndefined();
  });
});

describe('single flight when a loader starts a load itself', () => {
  test('the nested flight settling first does not clear the outer one: a read meanwhile joins it, no third load', async () => {
    const now = 1_000_000;
    const loads: Array<(value: Loaded<string>) => void> = [];
    let nested: Promise<Loaded<string>> | undefined;
    const value: Refreshable<string, string> = new Refreshable<string, string>({
      load: (argument) => {
        // The first load starts another one synchronously (before its own flight is recorded).
        if (argument === 'outer') nested = value.reload('nested');
        return new Promise((resolve) => loads.push(resolve));
      },
      now: () => now,
      cooldown: () => 1000,
    });
    const times = (v: string) => ({ value: v, refreshAt: now + 100, expiresAt: now + 200, staleUntil: now + 300 });
    const outer = value.reload('outer');
    expect(loads).toHaveLength(2);
    loads[0]!(times('from nested')); // the nested load (it was called first) settles first
    await nested;
    expect(value.inFlight).toBe(outer);
    const joined = value.refresh('x');
    expect(loads).toHaveLength(2);
    loads[1]!(times('from outer'));
    await expect(joined).resolves.toMatchObject({ value: 'from outer' });
    await outer;
    expect(value.inFlight).toBeUndefined();
  });
});
