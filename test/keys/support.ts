/** Shared helpers of the key-source tests (not a test file). */
import { decodeProtectedHeader } from 'jose';
import type { KeyObject } from 'node:crypto';
import type { KeySourceEvent } from 'express-m2m';
import type { KeySource } from 'express-m2m/extend';

/** A clock the test moves by hand. */
export function fakeClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms: number) => { time += ms; } };
}

/** Collects events; `of(type)` filters them. */
export function eventLog(): { onEvent: (event: KeySourceEvent) => void; all: KeySourceEvent[]; of: <T extends KeySourceEvent['type']>(type: T) => Extract<KeySourceEvent, { type: T }>[] } {
  const all: KeySourceEvent[] = [];
  return {
    all,
    onEvent: (event) => { all.push(event); },
    of: (type) => all.filter((event) => event.type === type) as never,
  };
}

/** The `alg` and `kid` of a compact JWS, as verification would pass them. */
export function selectorOf(token: string): { alg: string; kid?: string } {
  const header = decodeProtectedHeader(token);
  return header.kid === undefined ? { alg: header.alg! } : { alg: header.alg!, kid: header.kid };
}

/** Calls `getKey` and settles it, whether it throws, rejects or returns. */
export async function settle(source: KeySource, selector: { alg: string; kid?: string }): Promise<{ key?: KeyObject; error?: Error & { code?: string; status?: number; headers?: Record<string, string> } }> {
  try {
    return { key: await source.getKey(selector) };
  } catch (error) {
    return { error: error as Error };
  }
}

/** Lets pending promise callbacks and I/O callbacks run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
