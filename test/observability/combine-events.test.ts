/**
 * combineEvents (docs/observability.md): one onEvent out of several hooks, each called in order
 * with every event; one hook's exception keeps the event from no other; undefined hooks are
 * skipped; anything else is refused at construction.
 */
import { combineEvents, type ObservedEvent } from 'express-m2m';

const event: ObservedEvent = { type: 'keys.stale_used', uri: 'https://issuer.test/jwks', ageMs: 1 };

describe('combineEvents: every hook gets every event, in order', () => {
  test('a hook that throws does not keep the event from the next one, nor throws', () => {
    const seen: string[] = [];
    const hook = combineEvents(
      (e) => seen.push(`a ${e.type}`),
      () => { throw new Error('observer bug'); },
      undefined,
      (e) => seen.push(`b ${e.type}`),
    );
    expect(() => hook(event)).not.toThrow();
    expect(seen).toEqual(['a keys.stale_used', 'b keys.stale_used']);
  });

  test('a hook that is not a function is refused at construction', () => {
    expect(() => combineEvents('log' as never)).toThrow('combineEvents: every hook must be a function (or undefined)');
  });
});
