import { quotable } from '../../src/errors/quotable.js';
import { renderChallenge } from '../../src/errors/challenge.js';
import { requireAuth } from 'express-m2m';
import * as api from 'express-m2m';

describe('RFC 6750 section 3: quoted WWW-Authenticate attributes hold only %x20-21 / %x23-5B / %x5D-7E', () => {
  it('replaces quotes, backslashes, control and non-ASCII characters with "?"', () => {
    expect(quotable('the "org" claim\\\r\n\u00e9\x7f')).toBe('the ?org? claim?????');
  });

  it('returns a safe value unchanged (so quotable(v) === v is the "header-safe" check)', () => {
    const safe = ' !#$%&\'()*+,-./09:;<=>?@AZ[]^_`az{|}~';
    expect(quotable(safe)).toBe(safe);
  });

  it('is the sanitiser of the challenge, the claim guards and the realm option alike', () => {
    expect(renderChallenge({ error: 'invalid_token', description: 'a "b"' }, {})).toBe('Bearer error="invalid_token", error_description="a ?b?"');
    expect(() => requireAuth({ realm: 'a"b', secret: 'x'.repeat(32), issuer: 'i', audience: 'a' }))
      .toThrow('requireAuth: "realm" must be a string of printable ASCII without quotes or backslashes');
  });

  it('is internal: not part of the package exports', () => {
    expect(Object.keys(api)).not.toContain('quotable');
  });
});
