/**
 * Key-selection rejections and outage 503s are expected outcomes, built without a stack trace
 * (an unknown-kid flood or an outage must stay cheap); `stack` stays a string.
 */
import { InvalidTokenError, KeySourceUnavailableError } from 'express-m2m';
import { createKeySource } from 'express-m2m/extend';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';

let issuer: LocalIssuer;
beforeAll(async () => {
  issuer = await createLocalIssuer();
});
afterAll(async () => {
  await issuer.close();
});

function hasFrames(error: Error): boolean {
  return /\n\s+at /.test(String(error.stack));
}

describe('expected rejections carry no stack trace', () => {
  test('unknown kid and alg not supported from a static key', () => {
    const source = createKeySource({ publicKey: issuer.publicJwks() });
    for (const selector of [{ alg: 'RS256', kid: 'nope' }, { alg: 'HS256', kid: 'nope' }]) {
      let caught: unknown;
      try {
        source.getKey(selector);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidTokenError);
      expect(typeof (caught as Error).stack).toBe('string');
      expect(hasFrames(caught as Error)).toBe(false);
    }
  });

  test('503 during a JWKS outage', async () => {
    issuer.setFault('jwks', { status: 500 });
    try {
      const source = createKeySource({ jwksUri: issuer.jwksUri });
      await expect(source.getKey({ alg: 'RS256', kid: 'k' })).rejects.toBeInstanceOf(KeySourceUnavailableError);
      let caught: unknown;
      try {
        await source.getKey({ alg: 'RS256', kid: 'k' });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(KeySourceUnavailableError);
      expect(hasFrames(caught as Error)).toBe(false);
    } finally {
      issuer.clearFaults();
    }
  });
});
