import { tokenCacheKey, type TokenIdentity } from '../../src/outbound/shared/token-cache-key.js';

const identity: TokenIdentity = { endpoint: 'https://as.example/token', clientId: 'svc', audience: undefined, scopes: ['a'], resources: [], extraParams: {} };

describe('token cache key: what a sender-constrained token is bound to is part of its key', () => {
  it('keeps the key of a bearer token unchanged by the confirmation component', () => {
    expect(tokenCacheKey({ ...identity, confirmation: undefined })).toBe(tokenCacheKey(identity));
  });

  it('gives a token bound to another key, another certificate, or none, another key', () => {
    const keys = new Set([
      tokenCacheKey(identity),
      tokenCacheKey({ ...identity, confirmation: { jkt: 'one' } }),
      tokenCacheKey({ ...identity, confirmation: { jkt: 'two' } }),
      tokenCacheKey({ ...identity, confirmation: { 'x5t#S256': 'one' } }),
      tokenCacheKey({ ...identity, confirmation: { jkt: 'one', 'x5t#S256': 'one' } }),
    ]);
    expect(keys.size).toBe(5);
  });

  it('does not depend on the order the confirmation methods were written in', () => {
    expect(tokenCacheKey({ ...identity, confirmation: { jkt: 'a', 'x5t#S256': 'b' } }))
      .toBe(tokenCacheKey({ ...identity, confirmation: { 'x5t#S256': 'b', jkt: 'a' } }));
  });
});
