/**
 * The example's mTLS mode (`DOWNSTREAM_MTLS=true`): the downstream accepts only certificate-bound
 * tokens (RFC 8705), and `GET /api/downstream` reaches it with the API's client certificate
 * (`tls_client_auth` at the embedded issuer's mTLS alias, the bound token over the same
 * certificate). As `npm start` runs it (a child process, PORT=0), and in-process for what the
 * banner cannot show.
 */
import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import { ConfigError, loadConfig } from '../../example-api/src/config.js';
import { startExample, type RunningExample } from '../../example-api/src/start.js';
import { call, printed, startExampleProcess } from './support.js';

describe('DOWNSTREAM_MTLS=true: the downstream requires certificate-bound tokens, the API presents its certificate', () => {
  test('npm start: the banner says so and names the CA; the printed curl steps work; /api/downstream answers 200', async () => {
    const example = await startExampleProcess({ PORT: '0', DOWNSTREAM_MTLS: 'true' });
    try {
      const stdout = example.output.stdout;
      expect(stdout).toContain('mTLS mode (DOWNSTREAM_MTLS): the downstream accepts only certificate-bound tokens');
      const caFile = /trust (\S+)$/m.exec(stdout)?.[1] as string;
      expect(readFileSync(caFile, 'utf8')).toContain('-----BEGIN CERTIFICATE-----');
      expect(stdout).toContain(`curl -s --cacert ${caFile} -u `);
      expect(stdout).toContain(`NODE_EXTRA_CA_CERTS=${caFile} API_URL=`);
      expect(stdout).not.toContain('DPOP_DOWNSTREAM_URL='); // the demo has no client certificate for the direct DPoP steps
      const tokenEndpoint = printed(stdout, 'TOKEN_ENDPOINT');
      expect(tokenEndpoint).toMatch(/^https:/);
      const agent = new Agent({ connect: { ca: readFileSync(caFile, 'utf8') } });
      const response = await undiciFetch(tokenEndpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${printed(stdout, 'CLIENT_ID')}:${printed(stdout, 'CLIENT_SECRET')}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', audience: printed(stdout, 'AUDIENCE') }).toString(),
        dispatcher: agent,
      });
      const { access_token: token } = await response.json() as { access_token: string };
      await agent.close();
      const answer = await call(`${example.url}/api/downstream`, { token });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ service: 'inventory', caller: 'example-api@clients' });
    } finally {
      await example.stop();
    }
  }, 120_000);

  describe('in-process', () => {
    let example: RunningExample;
    beforeAll(async () => {
      example = await startExample(loadConfig({ PORT: '0', DOWNSTREAM_MTLS: '1' }), { log: () => undefined });
    }, 60_000);
    afterAll(async () => {
      await example?.close();
    });

    test('the downstream refuses an unbound token and a bound token from another certificate; the API\'s own call passes', async () => {
      const issuer = example.localIssuer!;
      const ca = readFileSync(example.caFile!, 'utf8');
      const downstream = example.downstreamUrl!;
      expect(downstream).toMatch(/^https:/);
      const someone = issuer.tls!.issueClientCertificate({ subject: 'CN=someone' });
      const agent = new Agent({ connect: { ca, cert: someone.cert, key: someone.key } });
      try {
        const plain = await issuer.accessToken({ audience: 'https://downstream.example.com', clientId: 'plain' });
        const unbound = await undiciFetch(downstream, { headers: { authorization: `Bearer ${plain}` }, dispatcher: agent });
        expect(unbound.status).toBe(401);
        expect((await unbound.json() as { error_description: string }).error_description).toMatch(/accepts only certificate-bound tokens/);
        const boundElsewhere = await issuer.accessToken({ audience: 'https://downstream.example.com', clientId: 'x', claims: { cnf: { 'x5t#S256': issuer.tls!.issueClientCertificate().thumbprint } } });
        expect((await undiciFetch(downstream, { headers: { authorization: `Bearer ${boundElsewhere}` }, dispatcher: agent })).status).toBe(401);
      } finally {
        await agent.close();
      }
      const demo = example.demoClient!;
      const trusting = new Agent({ connect: { ca } });
      const token = await (await undiciFetch(demo.tokenEndpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${demo.clientId}:${demo.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=client_credentials&audience=${encodeURIComponent(demo.audience)}`,
        dispatcher: trusting,
      })).json() as { access_token: string };
      await trusting.close();
      expect((await call(`${example.apiUrl}/api/downstream`, { token: token.access_token })).status).toBe(200);
      // The DPoP downstream in mTLS mode: the API's token is bound both ways (cnf.jkt and x5t#S256).
      const dpop = await call(`${example.apiUrl}/api/downstream-dpop`, { token: token.access_token });
      expect(dpop.status).toBe(200);
      expect(dpop.body).toMatchObject({ service: 'inventory-dpop', caller: 'example-api-dpop@clients', scheme: 'DPoP' });
      // The printed demo line leaves the direct DPoP steps out: the demo has no client certificate.
    });
  });

  test('DOWNSTREAM_MTLS with your own issuer, or a bad value: a configuration error naming the variable', () => {
    expect(() => loadConfig({ DOWNSTREAM_MTLS: 'true', ISSUER_BASE_URL: 'https://issuer.example/', AUDIENCE: 'https://api' }))
      .toThrow(/DOWNSTREAM_MTLS applies only to the embedded issuer/);
    expect(() => loadConfig({ DOWNSTREAM_MTLS: 'yes' })).toThrow(ConfigError);
    expect(loadConfig({ DOWNSTREAM_MTLS: 'false' }).downstreamMtls).toBe(false);
  });
});
