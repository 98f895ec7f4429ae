/**
 * `npm run demo`, end to end: it walks the story (token, public/private/orders 200 and 403,
 * downstream, bad tokens) against a self-started example or a running one, prints each step, and
 * its exit code says whether every step got the expected answer.
 */
import { childEnv, printed, spawnCollecting, startExampleProcess, waitForExit, type ExampleProcess, type Finished } from './support.js';

const STEPS = 11;
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
    demoEnv = {
      API_URL: example.url,
      TOKEN_ENDPOINT: printed(stdout, 'TOKEN_ENDPOINT'),
      CLIENT_ID: printed(stdout, 'CLIENT_ID'),
      CLIENT_SECRET: printed(stdout, 'CLIENT_SECRET'),
      AUDIENCE: printed(stdout, 'AUDIENCE'),
    };
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
    expect(finished.stdout).toMatch(/\d+ of 11 steps FAILED\./);
    expect(finished.stdout + finished.stderr).not.toContain('wrong-secret-value');
  }, 150_000);

  it('API_URL without the client\'s values: exit code 2 naming the missing variables', async () => {
    const finished = await runDemo({ API_URL: example.url, CLIENT_ID: 'demo-client' });
    expect(finished.code).toBe(2);
    expect(finished.stderr).toContain('TOKEN_ENDPOINT, CLIENT_SECRET, AUDIENCE');
  }, 150_000);
});
