/**
 * Types say what the runtime does (checked by `npx tsc -p tsconfig.json --noEmit`, which type-checks
 * test/; each `@ts-expect-error` fails the type-check if the error it expects goes away): the
 * verified header and payload are deep-frozen, hence deep-readonly; `algorithms` takes only names
 * the verifier supports; `verifiedTokenCache: true` is accepted as at runtime.
 */
import { createVerifier, type JwsAlgorithm, type VerifiedToken, type VerifierOptions } from 'express-m2m';
import { rsaPair, signRaw } from './support.js';

const ISS = 'https://issuer.example/';
const AUD = 'https://api.example';

type Claims = { roles: string[]; org: { id: string } };

describe('types match the runtime (D1, D4)', () => {
  test('header and payload are deep-readonly, as they are deep-frozen', () => {
    const { publicKey, privateKey } = rsaPair();
    const verifier = createVerifier({ issuer: ISS, audience: AUD, publicKey, verifiedTokenCache: true });
    const now = Math.floor(Date.now() / 1000);
    const token = signRaw('RS256', privateKey, { alg: 'RS256' }, { iss: ISS, aud: AUD, exp: now + 60, roles: ['a'], org: { id: 'x' } });
    const result = verifier.verify<Claims>(token) as VerifiedToken<Claims>;
    const roles: readonly string[] = result.payload.roles;
    expect(roles).toEqual(['a']);
    expect(() => {
      // @ts-expect-error the payload's arrays are read-only (and frozen)
      result.payload.roles.push('b');
    }).toThrow(TypeError);
    expect(() => {
      // @ts-expect-error nested objects are read-only (and frozen)
      result.payload.org.id = 'y';
    }).toThrow(TypeError);
    expect(() => {
      // @ts-expect-error the header is read-only (and frozen)
      result.header.alg = 'none';
    }).toThrow(TypeError);
  });

  test('audience is required (D3): a verifier without one would accept tokens minted for any API', () => {
    // @ts-expect-error "audience" is missing
    const options: VerifierOptions = { issuer: ISS, secret: 'x'.repeat(32) };
    expect(() => createVerifier(options)).toThrow(/"audience" is required/);
  });

  test('a claims.aud rule stands for audience in the type too (both together: refused at run time); a rule of another claim is not enough', () => {
    const ruled = createVerifier({ issuer: ISS, secret: 'x'.repeat(32), claims: { aud: (aud) => aud === 'https://api.example' } });
    expect(ruled.options.audience).toEqual([]);
    expect(() => createVerifier({ issuer: ISS, secret: 'x'.repeat(32), audience: 'a', claims: { aud: 'b' } })).toThrow(/keep one/);
    // @ts-expect-error a rule of another claim does not replace "audience"
    expect(() => createVerifier({ issuer: ISS, secret: 'x'.repeat(32), claims: { tenant: 'a' } })).toThrow(/"audience" is required/);
  });

  test('algorithms is a list of supported names: what the type refuses, the runtime refuses too', () => {
    const jwksUri = 'https://issuer.example/.well-known/jwks.json'; // nothing is fetched at construction
    const algorithms: JwsAlgorithm[] = ['RS256', 'EdDSA'];
    const good: Partial<VerifierOptions> = { algorithms };
    // @ts-expect-error 'none' is not a JwsAlgorithm
    const bad: Partial<VerifierOptions> = { algorithms: ['none'] };
    expect(() => createVerifier({ issuer: ISS, audience: AUD, jwksUri, ...good }).close()).not.toThrow();
    expect(() => createVerifier({ issuer: ISS, audience: AUD, jwksUri, ...bad })).toThrow(/"algorithms" must not contain "none"/);
  });
});
