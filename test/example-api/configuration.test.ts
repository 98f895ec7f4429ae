/**
 * The example's environment variables: each read in one place (`loadConfig`), and a bad or
 * contradictory environment fails at start-up with a message naming the variable, never a secret.
 * The last rules run the real entry point to show the failure reaches the user as such.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig, DEFAULT_AUDIENCE, DEFAULT_DOWNSTREAM_AUDIENCE } from '../../example-api/src/config.js';
import { runExampleToExit } from './support.js';

/** The problems `loadConfig(env)` reports (fails the test when it does not throw a ConfigError). */
function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

const ISSUER_ENV = { ISSUER_BASE_URL: 'https://issuer.test/', AUDIENCE: 'https://api.test' };

describe('No issuer configured: embedded mode with defaults', () => {
  it('an empty environment starts the embedded issuer on port 3000 of 127.0.0.1', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      issuer: { kind: 'embedded' },
      audience: DEFAULT_AUDIENCE,
      downstreamAudience: DEFAULT_DOWNSTREAM_AUDIENCE,
      outbound: undefined,
      downstreamMtls: false,
    });
  });

  it('AUDIENCE and DOWNSTREAM_AUDIENCE rename the embedded audiences', () => {
    expect(loadConfig({ AUDIENCE: 'https://mine', DOWNSTREAM_AUDIENCE: 'https://theirs' })).toMatchObject({
      issuer: { kind: 'embedded' }, audience: 'https://mine', downstreamAudience: 'https://theirs', outbound: undefined,
    });
  });

  it('empty values count as unset', () => {
    expect(loadConfig({ PORT: '', ISSUER_BASE_URL: ' ', CLIENT_ID: '' })).toMatchObject({ port: 3000, issuer: { kind: 'embedded' } });
  });

  it.each(['CLIENT_ID', 'CLIENT_SECRET', 'TOKEN_ENDPOINT', 'CLIENT_AUTH_METHOD', 'DOWNSTREAM_URL'])(
    '%s without an issuer is a contradiction named at start-up',
    (name) => {
      const found = problems({ [name]: name === 'TOKEN_ENDPOINT' || name === 'DOWNSTREAM_URL' ? 'https://x.test/' : 'value' });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(new RegExp(`^${name} is set but no issuer is configured`));
      expect(found[0]).toContain('ISSUER_BASE_URL');
    },
  );
});

describe('PORT: an integer from 0 to 65535', () => {
  it('0 picks a free port', () => {
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
  });

  it.each(['abc', '-1', '65536', '3000.5', '1e3', '0x50'])('PORT=%s is refused, naming PORT', (value) => {
    expect(problems({ PORT: value })).toEqual([expect.stringMatching(/^PORT must be an integer from 0 to 65535/)]);
  });
});

describe('Issuer: ISSUER_BASE_URL, or ISSUER + JWKS_URI, never both', () => {
  it('ISSUER_BASE_URL selects discovery', () => {
    expect(loadConfig(ISSUER_ENV).issuer).toEqual({ kind: 'discovery', issuerBaseURL: 'https://issuer.test/' });
  });

  it('ISSUER + JWKS_URI select explicit settings', () => {
    expect(loadConfig({ ISSUER: 'https://issuer.test/', JWKS_URI: 'https://issuer.test/jwks', AUDIENCE: 'a' }).issuer).toEqual({
      kind: 'explicit', issuer: 'https://issuer.test/', jwksUri: 'https://issuer.test/jwks',
    });
  });

  it('ISSUER without JWKS_URI names JWKS_URI; JWKS_URI without ISSUER names ISSUER', () => {
    expect(problems({ ISSUER: 'https://issuer.test/', AUDIENCE: 'a' })).toEqual([expect.stringMatching(/^ISSUER is set but JWKS_URI is not/)]);
    expect(problems({ JWKS_URI: 'https://issuer.test/jwks', AUDIENCE: 'a' })).toEqual([expect.stringMatching(/^JWKS_URI is set but ISSUER is not/)]);
  });

  it('ISSUER_BASE_URL with ISSUER or JWKS_URI is a contradiction', () => {
    for (const extra of [{ ISSUER: 'https://issuer.test/' }, { JWKS_URI: 'https://issuer.test/jwks' }] as Array<Record<string, string>>) {
      expect(problems({ ...ISSUER_ENV, ...extra })).toEqual([expect.stringMatching(/^ISSUER_BASE_URL cannot be combined with ISSUER or JWKS_URI/)]);
    }
  });

  it.each([
    ['ISSUER_BASE_URL', 'issuer.test'],
    ['ISSUER_BASE_URL', 'ftp://issuer.test/'],
    ['JWKS_URI', '/jwks.json'],
  ])('%s=%s is not an http(s) URL: named', (name, value) => {
    const env: Record<string, string> = name === 'JWKS_URI' ? { ISSUER: 'https://i/', JWKS_URI: value, AUDIENCE: 'a' } : { ...ISSUER_ENV, [name]: value };
    expect(problems(env)).toEqual([expect.stringMatching(new RegExp(`^${name} must be an (absolute )?http`))]);
  });

  it('a URL with a password is refused without repeating it', () => {
    const found = problems({ ...ISSUER_ENV, ISSUER_BASE_URL: 'https://user:hunter2-secret@issuer.test/' });
    expect(found).toEqual(['ISSUER_BASE_URL must not contain a user name or password']);
  });

  it('AUDIENCE is required once an issuer is configured', () => {
    expect(problems({ ISSUER_BASE_URL: 'https://issuer.test/' })).toEqual([expect.stringMatching(/^AUDIENCE is required/)]);
  });
});

describe('Outbound: CLIENT_ID, CLIENT_SECRET, DOWNSTREAM_AUDIENCE, TOKEN_ENDPOINT (or discovery), CLIENT_AUTH_METHOD, DOWNSTREAM_URL', () => {
  const outbound = { CLIENT_ID: 'svc', CLIENT_SECRET: 'marker-secret-value', DOWNSTREAM_AUDIENCE: 'https://down.test' };

  it('no outbound variable: the API runs inbound-only', () => {
    expect(loadConfig(ISSUER_ENV).outbound).toBeUndefined();
  });

  it('with ISSUER_BASE_URL the token endpoint is discovered and the built-in downstream is used', () => {
    expect(loadConfig({ ...ISSUER_ENV, ...outbound }).outbound).toEqual({
      tokenEndpoint: undefined,
      clientId: 'svc',
      clientSecret: 'marker-secret-value',
      authMethod: undefined,
      downstreamUrl: undefined,
      downstreamAudience: 'https://down.test',
    });
  });

  it('every outbound variable is read', () => {
    expect(loadConfig({
      ...ISSUER_ENV, ...outbound, TOKEN_ENDPOINT: 'https://issuer.test/token', CLIENT_AUTH_METHOD: 'client_secret_post', DOWNSTREAM_URL: 'http://127.0.0.1:9/x',
    }).outbound).toMatchObject({ tokenEndpoint: 'https://issuer.test/token', authMethod: 'client_secret_post', downstreamUrl: 'http://127.0.0.1:9/x' });
  });

  it('CLIENT_ID alone names the missing CLIENT_SECRET and DOWNSTREAM_AUDIENCE', () => {
    const found = problems({ ...ISSUER_ENV, CLIENT_ID: 'svc' });
    expect(found).toEqual([expect.stringMatching(/^CLIENT_SECRET is required/), expect.stringMatching(/^DOWNSTREAM_AUDIENCE is required/)]);
  });

  it('ISSUER + JWKS_URI cannot discover a token endpoint: TOKEN_ENDPOINT is named', () => {
    const found = problems({ ISSUER: 'https://i/', JWKS_URI: 'https://i/jwks', AUDIENCE: 'a', ...outbound });
    expect(found).toEqual([expect.stringMatching(/^TOKEN_ENDPOINT is required/)]);
  });

  it('CLIENT_AUTH_METHOD must be client_secret_basic or client_secret_post', () => {
    expect(problems({ ...ISSUER_ENV, ...outbound, CLIENT_AUTH_METHOD: 'private_key_jwt' })).toEqual([
      expect.stringMatching(/^CLIENT_AUTH_METHOD must be one of client_secret_basic, client_secret_post/),
    ]);
  });

  it('reports every problem at once, and never the value of CLIENT_SECRET', () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: 'x', ISSUER: 'https://i/', AUDIENCE: 'a', CLIENT_SECRET: 'marker-secret-value', CLIENT_AUTH_METHOD: 'nope' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.problems.map((problem) => problem.split(' ')[0])).toEqual(['PORT', 'ISSUER', 'CLIENT_ID', 'DOWNSTREAM_AUDIENCE', 'TOKEN_ENDPOINT', 'CLIENT_AUTH_METHOD']);
    expect(error.message).not.toContain('marker-secret-value');
  });
});

describe('Start-up failures reach the user: a message naming the variable, a non-zero exit, no banner', () => {
  let busy: Server | undefined;

  afterAll(async () => {
    if (busy !== undefined) await new Promise<void>((resolve) => busy?.close(() => resolve()));
  });

  it('a bad environment: exit code 2 and the variable named on stderr', async () => {
    const finished = await runExampleToExit({ ISSUER: 'https://issuer.test/', AUDIENCE: 'https://api.test', CLIENT_SECRET: 'marker-secret-value' });
    expect(finished.code).toBe(2);
    expect(finished.stderr).toContain('example-api: configuration error:');
    expect(finished.stderr).toContain('JWKS_URI');
    expect(finished.stderr).not.toContain('marker-secret-value');
    expect(finished.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(finished.stdout).toBe('');
  }, 90_000);

  it('a port in use: exit code 1 naming PORT, and nothing left running', async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy?.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as AddressInfo;
    const finished = await runExampleToExit({ PORT: String(port) });
    expect(finished.code).toBe(1);
    expect(finished.stderr).toContain(`PORT ${port} is already in use`);
    expect(finished.stdout).toBe('');
  }, 90_000);
});
