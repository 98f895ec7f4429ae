/**
 * The one single-flight / cooldown / serve-stale mechanism (discovery, remote JWKS and the token
 * cache are built on it), against a loader the test controls and a clock it moves.
 */
import { Refreshable, type Loaded, type LoadFailure } from '../../src/lib/refreshable.js';

function setup(cooldown = (count: number) => 1000 * count) {
  let now = 1_000_000;
  const loads: Array<{ resolve: (value: Loaded<string>) => void; reject: (error: unknown) => void }> = [];
  const failures: LoadFailure[] = [];
  const loaded: string[] = [];
  const value = new Refreshable<string, string>({
    load: () => new Promise((resolve, reject) => loads.push({ resolve, reject })),
    now: () => now,
    cooldown: (count) => cooldown(count),
    onLoaded: (result) => loaded.push(result.value),
    onFailure: (failure) => failures.push(failure),
  });
  const times = (v: string) => ({ value: v, refreshAt: now + 100, expiresAt: now + 200, staleUntil: now + 300 });
  return { value, loads, failures, loaded, times, advance: (ms: number) => { now += ms; }, now: () => now };
}

describe('phases are derived from the loaded value\'s times and the clock', () => {
  test('missing, fresh, due, expired, gone', async () => {
    const t = setup();
    expect(t.value.phase(t.now())).toBe('missing');
    const flight = t.value.refresh('x');
    t.loads[0]!.resolve(t.times('v1'));
    await flight;
    expect(t.value.phase(t.now())).toBe('fresh');
    t.advance(100);
    expect(t.value.phase(t.now())).toBe('due');
    t.advance(100);
    expect(t.value.phase(t.now())).toBe('expired');
    t.advance(100);
    expect(t.value.phase(t.now())).toBe('gone');
  });
});

describe('single flight', () => {
  test('concurrent callers share one load; onLoaded once', async () => {
    const t = setup();
    const flights = Array.from({ length: 10 }, () => t.value.refresh('x'));
    expect(t.loads).toHaveLength(1);
    t.loads[0]!.resolve(t.times('v1'));
    expect((await Promise.all(flights)).map((l) => l.value)).toEqual(Array(10).fill('v1'));
    expect(t.loaded).toEqual(['v1']);
  });
});

describe('a failed load cools down: no new load until retryAt, callers get the failure at once', () => {
  test('the cooldown grows with the count of consecutive failures; a success resets it', async () => {
    const t = setup();
    const first = t.value.refresh('x');
    t.loads[0]!.reject(new Error('down'));
    await expect(first).rejects.toThrow('down');
    expect(t.failures).toHaveLength(1);
    expect(t.failures[0]).toMatchObject({ count: 1, retryAt: t.now() + 1000 });
    await expect(t.value.refresh('x')).rejects.toThrow('down');
    expect(t.loads).toHaveLength(1); // no load while cooling down
    expect(t.value.coolingDownUntil(t.now())).toBe(t.now() + 1000);
    t.advance(1000);
    const second = t.value.refresh('x');
    t.loads[1]!.reject(new Error('still down'));
    await expect(second).rejects.toThrow('still down');
    expect(t.failures[1]).toMatchObject({ count: 2, retryAt: t.now() + 2000 });
    t.advance(2000);
    const third = t.value.refresh('x');
    t.loads[2]!.resolve(t.times('v1'));
    await third;
    expect(t.value.failure).toBeUndefined();
    expect(t.value.coolingDownUntil(t.now())).toBeUndefined();
  });

  test('reload() is an explicit attempt: it ignores the cooldown (still single flight)', async () => {
    const t = setup();
    const first = t.value.refresh('x');
    t.loads[0]!.reject(new Error('down'));
    await expect(first).rejects.toThrow('down');
    const again = t.value.reload('x');
    expect(t.loads).toHaveLength(2);
    t.loads[1]!.resolve(t.times('v1'));
    expect((await again).value).toBe('v1');
  });

  test('read() while cooling down with nothing to serve throws synchronously (no promise)', async () => {
    const t = setup();
    const first = t.value.read(t.now(), 'x') as Promise<unknown>;
    t.loads[0]!.reject(new Error('down'));
    await expect(first).rejects.toThrow('down');
    expect(() => t.value.read(t.now(), 'x')).toThrow('down');
  });
});

describe('read(): fresh and due values at once; expired ones wait, or are served stale during an outage', () => {
  test('due: the value now and one background refresh', async () => {
    const t = setup();
    const first = t.value.read(t.now(), 'x') as Promise<unknown>;
    t.loads[0]!.resolve(t.times('v1'));
    await first;
    t.advance(150);
    expect(t.value.read(t.now(), 'x')).toEqual({ value: 'v1', stale: false });
    expect(t.value.read(t.now(), 'x')).toEqual({ value: 'v1', stale: false });
    expect(t.loads).toHaveLength(2); // one background refresh for both reads
  });

  test('expired with no known outage: the reader waits for a load; when it fails, the value is served stale', async () => {
    const t = setup();
    const first = t.value.read(t.now(), 'x') as Promise<unknown>;
    t.loads[0]!.resolve(t.times('v1'));
    await first;
    t.advance(250); // expired, inside the stale window
    const waiting = t.value.read(t.now(), 'x');
    expect(waiting).toBeInstanceOf(Promise);
    t.loads[1]!.reject(new Error('down'));
    await expect(waiting).resolves.toEqual({ value: 'v1', stale: true });
    // Now an outage is known: the next read is served stale at once.
    expect(t.value.read(t.now(), 'x')).toEqual({ value: 'v1', stale: true });
  });

  test('past staleUntil the value is never served', async () => {
    const t = setup();
    const first = t.value.read(t.now(), 'x') as Promise<unknown>;
    t.loads[0]!.resolve(t.times('v1'));
    await first;
    t.advance(300);
    const waiting = t.value.read(t.now(), 'x') as Promise<unknown>;
    expect(t.value.loaded).toBeUndefined();
    t.loads[1]!.reject(new Error('down'));
    await expect(waiting).rejects.toThrow('down');
  });
});
