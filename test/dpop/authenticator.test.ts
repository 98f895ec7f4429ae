/**
 * DPoP without Express (docs/dpop.md "Without Express"): createAuthenticator({ dpop }) checks the
 * proof against the InboundRequest's `url`; without one it throws a plain Error (a bug of the
 * adapter), never admits the request.
 */
import { createAuthenticator, DpopProofError, type InboundRequest } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { AUDIENCE, boundToken, createDpopProof, generateDpopKey } from './support.js';

let issuer: LocalIssuer;
beforeAll(async () => {
  issuer = await createLocalIssuer();
});
afterAll(async () => {
  await issuer.close();
});

function request(headers: Record<string, string>, url?: string): InboundRequest {
  return { method: 'GET', target: '/orders', ...(url === undefined ? {} : { url }), headerLines: (name) => (headers[name] === undefined ? [] : [headers[name] as string]) };
}

describe('createAuthenticator({ dpop }): the InboundRequest says the URL', () => {
  test('with url: the proof is checked, the token comes back with scheme and jkt; a replay is refused', async () => {
    const authenticator = createAuthenticator({ issuerBaseURL: issuer.url, audience: AUDIENCE, dpop: {} });
    try {
      const key = generateDpopKey();
      const token = await boundToken(issuer, key);
      const headers = { authorization: `DPoP ${token}`, dpop: createDpopProof({ key, htm: 'GET', htu: 'https://orders.example/orders', accessToken: token }) };
      const admitted = await authenticator.authenticate(request(headers, 'https://orders.example/orders'));
      expect(admitted).toMatchObject({ scheme: 'DPoP', jkt: key.jkt });
      expect(Object.isFrozen(admitted)).toBe(true);
      await expect(Promise.resolve().then(() => authenticator.authenticate(request(headers, 'https://orders.example/orders'))))
        .rejects.toMatchObject({ code: 'ERR_DPOP_REPLAYED', status: 401, error: 'invalid_dpop_proof' });
      await expect(Promise.resolve().then(() => authenticator.authenticate(request(headers, 'https://orders.example/orders'))))
        .rejects.toBeInstanceOf(DpopProofError);
    } finally {
      authenticator.close();
    }
  });

  test('without url: a plain Error, not an admission', async () => {
    const authenticator = createAuthenticator({ issuerBaseURL: issuer.url, audience: AUDIENCE, dpop: {} });
    try {
      const key = generateDpopKey();
      const token = await boundToken(issuer, key);
      const headers = { authorization: `DPoP ${token}`, dpop: createDpopProof({ key, htm: 'GET', htu: 'https://orders.example/orders', accessToken: token }) };
      await expect(Promise.resolve().then(() => authenticator.authenticate(request(headers)))).rejects.toThrow('the DPoP check needs the request URL');
    } finally {
      authenticator.close();
    }
  });
});
