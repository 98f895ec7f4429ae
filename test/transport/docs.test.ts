/**
 * docs/transport.md: the proxy example (`// transport-proxy.mjs`) runs as written, in a process of
 * its own, against a real forward proxy on loopback and an authorization server and downstream
 * that only the proxy can reach (`*.proxy.test`, see support.ts). That it gets the keys, a token
 * and the downstream's answer at all proves every call went through the `fetch` option.
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { exampleFolder, examples, readDoc } from '../docs-support.js';
import { startNamedServer, startProxy, type Proxy } from './support.js';

const run = promisify(execFile);
let dir: string;
let keys: LocalIssuer;
let proxy: Proxy;
let named: Awaited<ReturnType<typeof startNamedServer>>;

beforeAll(async () => {
  dir = exampleFolder('express-m2m-docs-transport-', ['undici']);
  keys = await createLocalIssuer();
  proxy = await startProxy();
  named = await startNamedServer(keys, 'https://billing.example.com');
});
afterAll(async () => {
  await proxy.close();
  await named.close();
  await keys.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('docs/transport.md "Through an HTTP(S) proxy" runs as written', () => {
  const found = examples(readDoc('docs/transport.md'));

  test('has the example this test expects, with what it prints', () => {
    expect([...found.keys()]).toEqual(['transport-proxy.mjs']);
    expect(found.get('transport-proxy.mjs')?.printed).toEqual(['keys fetched through the proxy, billing answered 200']);
  });

  test('transport-proxy.mjs: discovery, JWKS, token request and the downstream call all go through the proxy', async () => {
    const example = found.get('transport-proxy.mjs');
    if (example === undefined) throw new Error('no transport-proxy.mjs');
    writeFileSync(join(dir, 'transport-proxy.mjs'), example.code);
    const before = { seen: proxy.seen.length, tokenRequests: named.tokenRequests };
    const { stdout, stderr } = await run(process.execPath, ['transport-proxy.mjs'], {
      cwd: dir,
      timeout: 30_000,
      env: {
        ...process.env,
        HTTPS_PROXY: proxy.url,
        ISSUER_BASE_URL: named.issuer,
        CLIENT_ID: 'orders',
        CLIENT_SECRET: 'orders-secret',
        BILLING_URL: `${named.base}/downstream`,
        // The https servers behind the proxy have certificates of a CA made for this test.
        NODE_EXTRA_CA_CERTS: named.certificates.caFile,
      },
    });
    expect(stderr).toBe('');
    for (const line of example.printed) expect(stdout).toContain(line);
    expect(named.tokenRequests).toBe(before.tokenRequests + 1);
    const seen = proxy.seen.slice(before.seen);
    // Tunnels (undici keeps them alive, so fewer than requests), every one to the named server.
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((host) => host === `as.proxy.test:${named.port}`)).toBe(true);
  }, 40_000);
});
