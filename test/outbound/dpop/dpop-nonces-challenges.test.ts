/**
 * The two small parsers of the outbound DPoP side: the nonce store (RFC 9449 section 8.1's
 * `nonce = 1*NQCHAR`, per origin, bounded) and the reading of `WWW-Authenticate` challenges
 * (RFC 9110 section 11.6.1: several challenges in one value, quoted strings with commas).
 */
import { DpopNonces, MAX_NONCE_ORIGINS } from '../../../src/outbound/dpop/dpop-nonces.js';
import { challengeErrors } from '../../../src/outbound/presenters/challenge-errors.js';

const answer = (nonce: string | undefined) => new Response(null, { headers: nonce === undefined ? {} : { 'dpop-nonce': nonce } });

describe('RFC 9449 section 8.1: nonces are remembered per origin, bounded', () => {
  it('keeps the last nonce of each origin; returns the nonce an answer brought', () => {
    const nonces = new DpopNonces();
    expect(nonces.observe('https://a.example/token', answer('n1'))).toBe('n1');
    expect(nonces.observe('https://a.example/other?q', answer('n1'))).toBe('n1');
    expect(nonces.observe('https://a.example/x', answer(undefined))).toBeUndefined();
    expect(nonces.get('https://A.example:443/anything')).toBe('n1');
    expect(nonces.get('https://b.example/token')).toBeUndefined();
    expect(nonces.get('http://a.example/token')).toBeUndefined();
    expect(nonces.observe('https://a.example/token', answer('n2'))).toBe('n2');
    expect(nonces.get('https://a.example/')).toBe('n2');
  });

  it.each([['with a quote', 'a"b'], ['with a backslash', 'a\\b'], ['with a space', 'a b'], ['too long', 'n'.repeat(1025)]])('ignores a nonce %s', (_name, nonce) => {
    const nonces = new DpopNonces();
    nonces.observe('https://a.example/', answer('good'));
    expect(nonces.observe('https://a.example/', answer(nonce))).toBeUndefined();
    expect(nonces.get('https://a.example/')).toBe('good');
  });

  it(`keeps at most ${MAX_NONCE_ORIGINS} origins, forgetting the least recently updated first`, () => {
    const nonces = new DpopNonces();
    for (let i = 0; i < MAX_NONCE_ORIGINS; i += 1) nonces.observe(`https://s${i}.example/`, answer(`n${i}`));
    nonces.observe('https://s0.example/', answer('n0-again')); // s0 is now the most recent
    nonces.observe('https://new.example/', answer('fresh'));
    expect(nonces.size).toBe(MAX_NONCE_ORIGINS);
    expect(nonces.get('https://s0.example/')).toBe('n0-again');
    expect(nonces.get('https://s1.example/')).toBeUndefined();
    expect(nonces.get('https://new.example/')).toBe('fresh');
  });
});

describe('RFC 9110 section 11.6.1: the error of each challenge of WWW-Authenticate', () => {
  it.each<[string, Record<string, string | undefined>]>([
    ['DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"', { dpop: 'use_dpop_nonce' }],
    ['Bearer realm="api", DPoP algs="ES256 PS256", error="invalid_token"', { bearer: undefined, dpop: 'invalid_token' }],
    ['Bearer error="invalid_token", DPoP algs="ES256"', { bearer: 'invalid_token', dpop: undefined }],
    ['DPoP error_description="a, b, error=\\"x\\"", error=use_dpop_nonce', { dpop: 'use_dpop_nonce' }],
    ['dpop ERROR="invalid_dpop_proof"', { dpop: 'invalid_dpop_proof' }],
    ['Basic realm="x"', { basic: undefined }],
  ])('%s', (header, expected) => {
    expect(Object.fromEntries(challengeErrors(header))).toEqual(expected);
  });
});
