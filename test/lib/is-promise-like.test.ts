import { isPromiseLike } from '../../src/lib/is-promise-like.js';

describe('isPromiseLike: tells a synchronous result from a promise without awaiting', () => {
  it('is true for promises and thenables', () => {
    expect(isPromiseLike(Promise.resolve(1))).toBe(true);
    expect(isPromiseLike({ then: () => undefined })).toBe(true);
  });

  it('is false for plain values, including null, undefined and objects with a non-function then', () => {
    for (const value of [1, 'x', {}, { then: 1 }, null, undefined, false]) expect(isPromiseLike(value)).toBe(false);
  });
});
