/**
 * DPoP end to end, both halves of express-m2m against each other over real HTTP: a
 * `clientCredentials({ dpop })` provider gets a DPoP-bound token from the local issuer (which
 * checks its token-request proofs with the inbound verifier and asks for its nonce first), then
 * `provider.fetch()` calls an API protected by `requireAuth({ dpop: { mode: 'required', nonce } })`,
 * which asks for its own nonce once, checks every proof and refuses a replay.
 */
import { clientCredentials } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { AUDIENCE, startApi, type DpopApi } from './support.js';

let issuer: LocalIssuer;
let api: DpopApi;
beforeAll(async () => {
  issuer = await createLocalIssuer({ dpop: { nonce: true } });
  api = await startApi(issuer, { dpop: { mode: 'required', nonce: { secret: 'an end-to-end nonce secret, 32+ chars' } } });
});
afterAll(async () => {
  await api.close();
  await issuer.close();
});

describe('RFC 9449 sections 5, 7, 8 and 9 end to end: clientCredentials({ dpop }) -> local issuer -> requireAuth({ dpop })', () => {
  test('a DPoP-bound token, both servers\' nonces answered once, a new proof per call, req.auth names the key', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE], dpopBoundAccessTokens: true });
    const provider = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret: clientSecret as string, audience: AUDIENCE, dpop: true });
    try {
      for (let call = 0; call < 3; call += 1) {
        const response = await provider.fetch(`${api.url}/orders?call=${call}`);
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ scheme: 'DPoP', jkt: provider.dpop?.jkt });
      }
      expect(issuer.dpopCounts).toEqual({ accepted: 1, refused: 0, nonceChallenges: 1 });
      const codes = api.events.filter((event) => event.type === 'auth.rejected').map((event) => (event as { code: string }).code);
      expect(codes).toEqual(['ERR_DPOP_NONCE']);
    } finally {
      await provider.close();
    }
  });
});
