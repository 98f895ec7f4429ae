/**
 * Metadata from an https issuer never sends us to plain http: a JWKS fetched in clear could be
 * swapped for an attacker's keys (and a client secret sent in clear stolen, see
 * test/outbound/discovery-security.test.ts). Discovery refuses such metadata once, for both sides.
 * The issuer is a real https server with a self-signed certificate for 127.0.0.1, trusted through
 * NODE_EXTRA_CA_CERTS in a child process.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

interface ChildResult {
  discovered: string;
  verified: string;
  plainJwks: string;
  plainHits: number;
}

describe('RFC 8414 metadata of an https issuer must not name plain-http endpoints', () => {
  let result: ChildResult;
  beforeAll(async () => {
    const tls = join(__dirname, '..', 'fixtures', 'tls');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'https-metadata-child.ts'), tls], {
      cwd: join(__dirname, '..', '..'),
      env: { ...process.env, NODE_EXTRA_CA_CERTS: join(tls, 'localhost-cert.pem') },
      timeout: 30_000,
    });
    result = JSON.parse(stdout.trim().split('\n').pop() as string) as ChildResult;
  }, 40_000);

  test('discovery refuses an http jwks_uri with an InsecureMetadataError naming it', () => {
    expect(result.discovered).toMatch(/^refused: /);
    expect(result.discovered).toContain(result.plainJwks);
    expect(result.discovered).toMatch(/must be https/);
  });

  test('the verifier answers 503 and never fetches keys over plain http', () => {
    expect(result.verified).toBe('503 ERR_KEY_SOURCE_UNAVAILABLE');
    expect(result.plainHits).toBe(0);
  });
});
