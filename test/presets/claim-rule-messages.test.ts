/**
 * A claim predicate that throws an `InvalidTokenError` refuses with that error as it is (its own
 * description and code), synchronously or by rejecting: how the presets name the likely mistake.
 * Any other throw still becomes the generic refusal, the throw kept as its cause.
 */
import { createVerifier, InvalidTokenError, type ClaimRules } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';

const AUDIENCE = 'https://api.example';
let issuer: LocalIssuer;

beforeAll(async () => {
  issuer = await createLocalIssuer();
});
afterAll(async () => {
  await issuer.close();
});

async function refusal(claims: ClaimRules): Promise<unknown> {
  const verifier = createVerifier({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE, claims });
  try {
    await verifier.verify(await issuer.accessToken({ audience: AUDIENCE, claims: { token_use: 'id' } }));
  } catch (error) {
    return error;
  } finally {
    verifier.close();
  }
  throw new Error('expected a refusal');
}

describe('a predicate that throws an InvalidTokenError refuses with it', () => {
  it('thrown synchronously', async () => {
    const error = await refusal({ token_use: () => { throw new InvalidTokenError('send the access token, not the ID token', 'ERR_JWT_CLAIM_INVALID'); } });
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ status: 401, code: 'ERR_JWT_CLAIM_INVALID', message: 'send the access token, not the ID token' });
  });

  it('as a rejection', async () => {
    const error = await refusal({ token_use: async () => { throw new InvalidTokenError('send the access token, not the ID token'); } });
    expect(error).toMatchObject({ status: 401, code: 'ERR_INVALID_TOKEN', message: 'send the access token, not the ID token' });
  });

  it('any other throw is still the generic refusal, with the throw as its cause', async () => {
    const cause = new Error('database down');
    const error = await refusal({ token_use: () => { throw cause; } });
    expect(error).toMatchObject({ status: 401, code: 'ERR_JWT_CLAIM_INVALID', message: "unexpected 'token_use' claim value", cause });
  });
});
