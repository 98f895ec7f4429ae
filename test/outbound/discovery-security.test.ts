/**
 * A discovered token_endpoint must not downgrade the transport: an https issuer whose metadata names
 * an http token endpoint would get the client secret sent in clear. The provider refuses it with a
 * clear error and sends nothing there. The issuer is a real https server with a self-signed test
 * certificate for 127.0.0.1, trusted through NODE_EXTRA_CA_CERTS in a child process.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

interface ChildResult {
  refused: { code: string; retryable: boolean; message: string } | string;
  insecureEndpoint: string;
  plainHits: number;
  token: string;
}

describe('a discovered token_endpoint never downgrades an https issuer to http', () => {
  let result: ChildResult;
  beforeAll(async () => {
    const tls = join(__dirname, '..', 'fixtures', 'tls');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'discovery-downgrade-child.ts'), tls], {
      cwd: join(__dirname, '..', '..'),
      env: { ...process.env, NODE_EXTRA_CA_CERTS: join(tls, 'localhost-cert.pem') },
      timeout: 30_000,
    });
    result = JSON.parse(stdout.trim().split('\n').pop() as string) as ChildResult;
  }, 40_000);

  it('refuses an http token_endpoint from an https issuer, without sending it the secret', () => {
    expect(result.refused).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT_INSECURE', retryable: false });
    const { message } = result.refused as { message: string };
    expect(message).toContain(result.insecureEndpoint);
    expect(message).toMatch(/https/);
    expect(message).not.toContain('the-client-secret-1234');
    expect(result.plainHits).toBe(0);
  });

  it('takes an https token_endpoint from an https issuer', () => {
    expect(result.token).toBe('tls-token');
  });
});
