/**
 * `npm run demo`: walks the whole story against the example API and prints each step.
 *
 * - With `API_URL` set, it talks to that running example and needs the demo client that example
 *   printed: `TOKEN_ENDPOINT`, `CLIENT_ID`, `CLIENT_SECRET`, `AUDIENCE`.
 * - Without `API_URL`, it starts an example (embedded issuer, downstream, API) in this process on
 *   free ports, and stops it at the end.
 *
 * Exit code 0 when every step got the expected answer, 1 otherwise, 2 for a bad environment. Tokens
 * are never printed (only their length and decoded claims).
 */
import { clientCredentials, type TokenProvider } from 'express-m2m';
import { loadConfig } from './config.js';
import { startExample, type DemoClient, type RunningExample } from './start.js';

interface Answer {
  status: number;
  statusText: string;
  challenge: string | null;
  body: unknown;
}

interface StepResult {
  ok: boolean;
  lines: string[];
}

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** The demo's settings: where the API is and which client to use. */
function settingsFromEnv(env: NodeJS.ProcessEnv): { apiUrl: string; client: DemoClient } | 'self-start' {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const apiUrl = get('API_URL');
  if (apiUrl === undefined) return 'self-start';
  const missing = ['TOKEN_ENDPOINT', 'CLIENT_ID', 'CLIENT_SECRET', 'AUDIENCE'].filter((name) => get(name) === undefined);
  if (missing.length > 0) {
    throw new Error(
      `API_URL is set, so the demo needs the demo client the running example printed: set ${missing.join(', ')} ` +
        '(or unset API_URL to let the demo start its own example)',
    );
  }
  for (const name of ['API_URL', 'TOKEN_ENDPOINT']) {
    const value = get(name) as string;
    if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
      throw new Error(`${name} must be an absolute http(s) URL, got ${JSON.stringify(value)}`);
    }
  }
  return {
    apiUrl: apiUrl.replace(/\/+$/, ''),
    client: {
      tokenEndpoint: get('TOKEN_ENDPOINT') as string,
      clientId: get('CLIENT_ID') as string,
      clientSecret: get('CLIENT_SECRET') as string,
      audience: get('AUDIENCE') as string,
      scopes: ['read:orders', 'write:orders'],
    },
  };
}

/** The claims of a JWT, decoded without verification (for display only). */
function claimsOf(token: string): Record<string, unknown> {
  try {
    const payload = token.split('.')[1] ?? '';
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The same token with its signature changed: still well-formed, no longer valid. */
function tamper(token: string): string {
  const [header, payload, signature = ''] = token.split('.');
  const first = signature[0] === 'A' ? 'B' : 'A';
  return `${header}.${payload}.${first}${signature.slice(1)}`;
}

function short(value: unknown, max = 200): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

async function main(): Promise<number> {
  let settings: { apiUrl: string; client: DemoClient };
  let example: RunningExample | undefined;
  let chosen: ReturnType<typeof settingsFromEnv>;
  try {
    chosen = settingsFromEnv(process.env);
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n`);
    return 2;
  }
  if (chosen === 'self-start') {
    out('API_URL is not set: starting the example API (embedded issuer, downstream service) in this process...');
    // The self-started example ignores the example's own env variables: it is always the embedded one.
    example = await startExample(loadConfig({ PORT: '0' }), { log: (line) => process.stderr.write(`${line}\n`) });
    const client = example.demoClient;
    if (client === undefined) throw new Error('the embedded example has no demo client');
    settings = { apiUrl: example.apiUrl, client };
    out(`Example API at ${example.apiUrl}, issuer at ${example.issuerUrl ?? '?'}`);
  } else {
    settings = chosen;
    out(`Using the running example API at ${settings.apiUrl}`);
  }
  out();

  const { apiUrl, client } = settings;
  const providers: TokenProvider[] = [];
  const tokenProvider = (scope?: string): TokenProvider => {
    const provider = clientCredentials({
      tokenEndpoint: client.tokenEndpoint,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      audience: client.audience,
      ...(scope === undefined ? {} : { scope }),
      maxRetries: 0,
    });
    providers.push(provider);
    return provider;
  };

  async function call(method: string, path: string, init: { authorization?: string; json?: unknown } = {}): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.authorization !== undefined) headers.authorization = init.authorization;
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      headers,
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep the text
    }
    return { status: response.status, statusText: response.statusText, challenge: response.headers.get('www-authenticate'), body };
  }

  function expectStatus(answer: Answer, expected: number, detail?: string): StepResult {
    const lines = [`-> HTTP ${answer.status} ${answer.statusText}${answer.challenge === null ? '' : `   WWW-Authenticate: ${answer.challenge}`}`];
    lines.push(`-> ${detail ?? short(answer.body)}`);
    return { ok: answer.status === expected, lines: answer.status === expected ? lines : [...lines, `expected HTTP ${expected}`] };
  }

  let token = '';
  let readOnlyToken = '';
  const steps: Array<{ title: string; run: () => Promise<StepResult>; needsToken?: boolean }> = [
    {
      title: `Get an access token with client credentials (client ${client.clientId}, audience ${client.audience})`,
      run: async () => {
        const set = await tokenProvider().getTokenSet();
        token = set.accessToken;
        const claims = claimsOf(token);
        return {
          ok: true,
          lines: [
            `POST ${client.tokenEndpoint}  grant_type=client_credentials`,
            `-> a ${set.tokenType ?? 'Bearer'} token of ${token.length} characters (not shown); its claims:`,
            `   sub ${String(claims.sub)}, aud ${JSON.stringify(claims.aud)}, scope "${String(claims.scope ?? '')}", expires in ${Math.round((set.expiresAt - Date.now()) / 1000)} s`,
          ],
        };
      },
    },
    {
      title: 'GET /api/public without a token',
      run: async () => expectStatus(await call('GET', '/api/public'), 200),
    },
    {
      title: 'GET /api/private without a token (401, bare challenge)',
      run: async () => expectStatus(await call('GET', '/api/private'), 401),
    },
    {
      title: 'GET /api/private with the token',
      needsToken: true,
      run: async () => {
        const answer = await call('GET', '/api/private', { authorization: `Bearer ${token}` });
        const body = answer.body as { sub?: unknown; scopes?: unknown };
        return expectStatus(answer, 200, `sub ${String(body.sub)}, scopes ${JSON.stringify(body.scopes)}`);
      },
    },
    {
      title: 'GET /api/orders with the token (needs read:orders)',
      needsToken: true,
      run: async () => {
        const answer = await call('GET', '/api/orders', { authorization: `Bearer ${token}` });
        const orders = (answer.body as { orders?: unknown[] }).orders;
        return expectStatus(answer, 200, Array.isArray(orders) ? `${orders.length} orders` : undefined);
      },
    },
    {
      title: 'POST /api/orders with the token (needs write:orders)',
      needsToken: true,
      run: async () => expectStatus(
        await call('POST', '/api/orders', { authorization: `Bearer ${token}`, json: { item: 'widget', quantity: 2 } }),
        201,
      ),
    },
    {
      title: 'Get a second token with only scope read:orders',
      run: async () => {
        const set = await tokenProvider('read:orders').getTokenSet();
        readOnlyToken = set.accessToken;
        return { ok: true, lines: [`-> token with scope "${String(claimsOf(readOnlyToken).scope ?? '')}" (not shown)`] };
      },
    },
    {
      title: 'POST /api/orders with the read-only token (403 insufficient_scope)',
      needsToken: true,
      run: async () => expectStatus(
        await call('POST', '/api/orders', { authorization: `Bearer ${readOnlyToken}`, json: { item: 'widget', quantity: 1 } }),
        403,
      ),
    },
    {
      title: 'GET /api/downstream: the API calls the downstream service with its own client-credentials token',
      needsToken: true,
      run: async () => {
        const answer = await call('GET', '/api/downstream', { authorization: `Bearer ${token}` });
        const body = answer.body as { service?: unknown; caller?: unknown; scopes?: unknown };
        return expectStatus(
          answer,
          200,
          answer.status === 200 ? `service ${String(body.service)} saw caller ${String(body.caller)} with scopes ${JSON.stringify(body.scopes)}` : undefined,
        );
      },
    },
    {
      title: 'GET /api/private with a tampered token (signature changed: 401 invalid_token)',
      needsToken: true,
      run: async () => expectStatus(await call('GET', '/api/private', { authorization: `Bearer ${tamper(token)}` }), 401),
    },
    {
      title: 'GET /api/private with a malformed Authorization header "Bearer a b" (400 invalid_request)',
      run: async () => expectStatus(await call('GET', '/api/private', { authorization: 'Bearer a b' }), 400),
    },
  ];

  let passed = 0;
  try {
    for (const [index, step] of steps.entries()) {
      out(`Step ${index + 1}/${steps.length}: ${step.title}`);
      let result: StepResult;
      if (step.needsToken === true && token === '') {
        result = { ok: false, lines: ['skipped: no token (step 1 failed)'] };
      } else {
        try {
          result = await step.run();
        } catch (error) {
          result = { ok: false, lines: [`error: ${error instanceof Error ? error.message : String(error)}`] };
        }
      }
      for (const line of result.lines) out(`  ${line}`);
      out(result.ok ? '  [ok]' : '  [FAILED]');
      out();
      if (result.ok) passed += 1;
    }
  } finally {
    await Promise.all(providers.map((provider) => provider.close()));
    await example?.close();
  }
  out(passed === steps.length ? `All ${steps.length} steps succeeded.` : `${steps.length - passed} of ${steps.length} steps FAILED.`);
  return passed === steps.length ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
