/**
 * `npm run demo`, end to end: it walks the story (token, public/private/orders 200 and 403,
 * downstream, the DPoP-only downstream through the API, a DPoP-bound token of the demo's own with a
 * replayed proof and a Bearer presentation refused, bad tokens) against a self-started example or a running one, prints each step, and
 * its exit code says whether every step got the expected answer.
 */
import { childEnv, printed, spawnCollecting, startExampleProcess, waitForExit, type ExampleProcess, type Finished } from './support.js';

const STEPS = 16;
/** The steps that call the DPoP-only downstream directly: only with DPOP_DOWNSTREAM_URL (or self-started). */
const DIRECT_DPOP_STEPS = 4;
const JWT = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;

/** `npm run demo` with `env`, to the end. */
function runDemo(env: Record<string, string>): Promise<Finished> {
  const { child, output } = spawnCollecting(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'demo'], childEnv(env));
  return waitForExit(child, output, 120_000);
}

/** The printed steps: title, the lines under it, and whether it ended with [ok]. */
function stepsOf(stdout: string): Array<{ number: number; title: string; body: string; ok: boolean }> {
  return stdout.split(/^(?=Step \d+\/\d+: )/m).filter((block) => block.startsWith('Step ')).map((block) => {
    const [first = '', ...rest] = block.split('\n');
    const match = /^Step (\d+)\/\d+: (.*)$/.exec(first);
    const body = rest.join('\n');
    return { number: Number(match?.[1]), title: match?.[2] ?? '', body, ok: /^\s+\[ok\]$/m.test(body) && !body.includes('[FAILED]') };
  });
}

describe('npm run demo with no API_URL: starts its own example and every step succeeds', () => {
  let finished: Finished;

  beforeAll(async () => {
    finished = await runDemo({});
  }, 150_000);

  it('exits 0 after printing all steps as [ok]', () => {
    expect(finished.stderr).not.toMatch(/FAILED|Error/);
    expect(finished.code).toBe(0);
    const steps = stepsOf(finished.stdout);
    expect(steps.map((step) => step.number)).toEqual(Array.from({ length: STEPS }, (_, index) => index + 1));
    expect(steps.filter((step) => !step.ok)).toEqual([]);
    expect(finished.stdout).toContain(`All ${STEPS} steps succeeded.`);
    expect(finished.stdout).toContain('starting the example API');
  });

  it('shows what each step got: token claims, 200s, the bare 401 challenge, the 403 scope, the downstream, invalid_token, invalid_request', () => {
    const body = (title: RegExp): string => stepsOf(finished.stdout).find((step) => title.test(step.title))?.body ?? '';
    expect(body(/^Get an access token/)).toMatch(/sub demo-client@clients, aud "https:\/\/api\.example\.com", scope "read:orders write:orders"/);
    expect(body(/^GET \/api\/public/)).toContain('HTTP 200');
    expect(body(/^GET \/api\/private without a token/)).toMatch(/HTTP 401 Unauthorized\s+WWW-Authenticate: Bearer$/m);
    expect(body(/^GET \/api\/private with the token/)).toContain('sub demo-client@clients, scopes ["read:orders","write:orders"]');
    expect(body(/^GET \/api\/orders/)).toContain('HTTP 200');
    expect(body(/^POST \/api\/orders with the token/)).toContain('HTTP 201');
    expect(body(/^POST \/api\/orders with the read-only token/)).toMatch(/HTTP 403 .*error="insufficient_scope".*scope="write:orders"/);
    expect(body(/^GET \/api\/downstream/)).toContain('service inventory saw caller example-api@clients');
    expect(body(/^GET \/api\/downstream-dpop/)).toContain('service inventory-dpop saw caller example-api-dpop@clients with scheme DPoP');
    const bound = body(/^Get a DPoP-bound token/);
    const jkt = /-> a DPoP token \(not shown\) with cnf\.jkt ([\w-]{43}): the thumbprint of the demo's key/.exec(bound)?.[1];
    expect(jkt).toBeDefined();
    expect(body(/^GET the DPoP-only downstream directly/)).toMatch(new RegExp(`HTTP 200 OK\\n\\s+-> accepted with scheme DPoP, key ${jkt}`));
    const replay = body(/^Replay: the same request again/);
    expect(replay).toMatch(/HTTP 401 Unauthorized\s+WWW-Authenticate: DPoP error="invalid_dpop_proof", error_description="the DPoP proof was used before[^"]*", algs="ES256 EdDSA"$/m);
    expect(replay).toContain('remembers each accepted proof\'s jti');
    // Required mode: Bearer credentials are not this service's scheme, so the answer is its bare DPoP challenge.
    expect(body(/presented as a Bearer token/)).toMatch(/HTTP 401 Unauthorized\s+WWW-Authenticate: DPoP algs="ES256 EdDSA"$/m);
    expect(body(/tampered token/)).toMatch(/HTTP 401 .*error="invalid_token"/);
    expect(body(/malformed Authorization header/)).toMatch(/HTTP 400 .*error="invalid_request"/);
  });

  it('never prints a token', () => {
    expect(finished.stdout + finished.stderr).not.toMatch(JWT);
  });
});

describe('npm run demo with API_URL: walks the story against a running example, with the values it printed', () => {
  let example: ExampleProcess;
  let demoEnv: Record<string, string>;

  beforeAll(async () => {
    example = await startExampleProcess({ PORT: '0' });
    const stdout = example.output.stdout;
    // The variables of the printed `npm run demo` line, as a user pastes it.
    const line = /^\s+(API_URL=.*) npm run demo$/m.exec(stdout)?.[1] ?? '';
    demoEnv = Object.fromEntries(line.split(' ').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
    expect(demoEnv).toEqual({
      API_URL: example.url,
      TOKEN_ENDPOINT: printed(stdout, 'TOKEN_ENDPOINT'),
      CLIENT_ID: printed(stdout, 'CLIENT_ID'),
      CLIENT_SECRET: printed(stdout, 'CLIENT_SECRET'),
      AUDIENCE: printed(stdout, 'AUDIENCE'),
      DPOP_DOWNSTREAM_URL: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/inventory-dpop$/),
      DOWNSTREAM_AUDIENCE: 'https://downstream.example.com',
    });
  }, 120_000);

  afterAll(async () => {
    await example?.stop();
  });

  it('every step succeeds against the running example', async () => {
    const finished = await runDemo(demoEnv);
    expect(finished.code).toBe(0);
    expect(finished.stdout).toContain(`Using the running example API at ${example.url}`);
    expect(stepsOf(finished.stdout).filter((step) => step.ok)).toHaveLength(STEPS);
    expect(finished.stdout + finished.stderr).not.toMatch(JWT);
  }, 150_000);

  it('a wrong CLIENT_SECRET: step 1 fails, the token steps are skipped, exit code 1', async () => {
    const finished = await runDemo({ ...demoEnv, CLIENT_SECRET: 'wrong-secret-value' });
    expect(finished.code).toBe(1);
    const steps = stepsOf(finished.stdout);
    expect(steps[0]).toMatchObject({ ok: false });
    expect(steps[0]?.body).toContain('invalid_client');
    expect(steps.find((step) => /with the token$/.test(step.title))?.body).toContain('skipped: no token');
    expect(finished.stdout).toMatch(new RegExp(`\\d+ of ${STEPS} steps FAILED\\.`));
    expect(finished.stdout + finished.stderr).not.toContain('wrong-secret-value');
  }, 150_000);

  it('without DPOP_DOWNSTREAM_URL and DOWNSTREAM_AUDIENCE: the direct DPoP steps are left out, the API\'s DPoP call stays', async () => {
    const { DPOP_DOWNSTREAM_URL: _url, DOWNSTREAM_AUDIENCE: _audience, ...rest } = demoEnv;
    const finished = await runDemo(rest);
    expect(finished.code).toBe(0);
    const steps = stepsOf(finished.stdout);
    expect(steps).toHaveLength(STEPS - DIRECT_DPOP_STEPS);
    expect(steps.filter((step) => !step.ok)).toEqual([]);
    expect(steps.some((step) => /^GET \/api\/downstream-dpop/.test(step.title))).toBe(true);
    expect(steps.some((step) => /^Replay/.test(step.title))).toBe(false);
  }, 150_000);

  it('DPOP_DOWNSTREAM_URL without DOWNSTREAM_AUDIENCE: exit code 2 naming both', async () => {
    const finished = await runDemo({ ...demoEnv, DOWNSTREAM_AUDIENCE: '' });
    expect(finished.code).toBe(2);
    expect(finished.stderr).toContain('DPOP_DOWNSTREAM_URL and DOWNSTREAM_AUDIENCE go together');
  }, 150_000);

  it('API_URL without the client\'s values: exit code 2 naming the missing variables', async () => {
    const finished = await runDemo({ API_URL: example.url, CLIENT_ID: 'demo-client' });
    expect(finished.code).toBe(2);
    expect(finished.stderr).toContain('TOKEN_ENDPOINT, CLIENT_SECRET, AUDIENCE');
  }, 150_000);
});
