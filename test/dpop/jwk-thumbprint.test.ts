import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { jwkThumbprint } from '../../src/index.js';

describe('RFC 7638 section 3.1: the example RSA key', () => {
  it('has the thumbprint the RFC computes', () => {
    const jwk = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    expect(jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
});

describe('RFC 9449 section 4.1 and 6.1: the example proof key and its jkt', () => {
  it('gives the cnf.jkt value of section 6.1', () => {
    const jwk = { kty: 'EC', x: 'l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs', y: '9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA', crv: 'P-256' };
    expect(jwkThumbprint(jwk)).toBe('0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I');
  });
});

describe('RFC 7638 section 3.2: only the required members, in order', () => {
  it('agrees with jose for generated EC, OKP and RSA keys, whatever the member order and extra members', async () => {
    for (const type of ['ec', 'ed25519', 'rsa'] as const) {
      const { publicKey } = type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'P-384' })
        : type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
      const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
      const shuffled = Object.fromEntries([...Object.entries(jwk)].reverse().concat([['kid', 'k1'], ['use', 'sig']]));
      expect(jwkThumbprint(shuffled)).toBe(await calculateJwkThumbprint(jwk as never, 'sha256'));
    }
  });

  it('refuses an unknown key type or a missing member instead of naming part of a key', () => {
    expect(() => jwkThumbprint({ kty: 'XYZ', x: 'a' })).toThrow(/unsupported key type "XYZ"/);
    expect(() => jwkThumbprint({ kty: 'EC', crv: 'P-256', x: 'a' })).toThrow(/has no "y"/);
    expect(() => jwkThumbprint({ kty: 'toString' })).toThrow(/unsupported key type/);
  });
});
