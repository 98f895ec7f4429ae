/**
 * `npm run demo`: walks the whole story against the example API and prints each step.
 *
 * - With `API_URL` set, it talks to that running example and needs the demo client that example
 *   printed: `TOKEN_ENDPOINT`, `CLIENT_ID`, `CLIENT_SECRET`, `AUDIENCE`.
 * - Without `API_URL`, it starts an example (embedded issuer, downstream, API) in this process on
 *   free ports, and stops it at the end.
 *
 *   `DPOP_DOWNSTREAM_URL` and `DOWNSTREAM_AUDIENCE` (printed too, except in mTLS mode) add the
 *   steps that call the DPoP-only downstream directly: a replayed proof, a bound token as Bearer.
 *
 * Exit code 0 when every step got the expected answer, 1 otherwise, 2 for a bad environment. Tokens
 * are never printed (only their length and decoded claims).
 */
import { clientCredentials, type TokenProvider } from 'express-m2m';
// The demo signs its own proofs (to replay one on purpose): the test helpers make them.
import { createDpopProof, generateDpopKey, type DpopKeyPair } from 'express-m2m/testing';
import { loadConfig } from './config.js';
import { startExample, type DemoClient, type RunningExample } from './start.js';

interface Answer {
  status: number;
  statusText: string;
  challenge: string | null;
  body: unknown;
}

/** The DPoP-only downstream the demo calls directly (its URL and its tokens' audience). */
interface DpopTarget {
  url: string;
  audience: string;
}

interface Settings {
  apiUrl: string;
  client: DemoClient;
  dpop: DpopTarget | undefined;
}

interface StepResult {
  ok: boolean;
  lines: string[];
}

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** The demo's settings: where the API is and which client to use. */
function settingsFromEnv(env: NodeJS.ProcessEnv): Settings | 'self-start' {
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
  const dpopUrl = get('DPOP_DOWNSTREAM_URL');
  const dpopAudience = get('DOWNSTREAM_AUDIENCE');
  if ((dpopUrl === undefined) !== (dpopAudience === undefined)) {
    throw new Error('DPOP_DOWNSTREAM_URL and DOWNSTREAM_AUDIENCE go together (the DPoP steps need both): set both, or neither to skip those steps');
  }
  for (const name of ['API_URL', 'TOKEN_ENDPOINT', ...(dpopUrl === undefined ? [] : ['DPOP_DOWNSTREAM_URL'])]) {
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
    dpop: dpopUrl === undefined || dpopAudience === undefined ? undefined : { url: dpopUrl, audience: dpopAudience },
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
  let settings: Settings;
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
    const dpop = example.dpopDownstreamUrl === undefined ? undefined : { url: example.dpopDownstreamUrl, audience: example.downstreamAudience };
    settings = { apiUrl: example.apiUrl, client, dpop };
    out(`Example API at ${example.apiUrl}, issuer at ${example.issuerUrl ?? '?'}`);
  } else {
    settings = chosen;
    out(`Using the running example API at ${settings.apiUrl}`);
  }
  out();

  const { apiUrl, client, dpop } = settings;
  const providers: TokenProvider[] = [];
  const tokenProvider = (scope?: string, bound?: { audience: string; key: DpopKeyPair }): TokenProvider => {
    const provider = clientCredentials({
      tokenEndpoint: client.tokenEndpoint,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      audience: bound?.audience ?? client.audience,
      ...(scope === undefined ? {} : { scope }),
      // With a key: the token request carries a proof signed with it, and the token is bound to it.
      ...(bound === undefined ? {} : { dpop: { key: bound.key.privateKey } }),
      maxRetries: 0,
    });
    providers.push(provider);
    return provider;
  };

  async function call(method: string, path: string, init: { authorization?: string; json?: unknown; dpopProof?: string } = {}): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.authorization !== undefined) headers.authorization = init.authorization;
    if (init.dpopProof !== undefined) headers.dpop = init.dpopProof;
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    // An absolute URL is called as it is (the DPoP-only downstream); a path is the API's.
    const response = await fetch(/^https?:/.test(path) ? path : `${apiUrl}${path}`, {
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

  /** `expectStatus`, and the `WWW-Authenticate` challenge must match `challenge`. */
  function expectChallenge(answer: Answer, expected: number, challenge: RegExp, detail?: string): StepResult {
    const result = expectStatus(answer, expected, detail);
    if (answer.challenge !== null && challenge.test(answer.challenge)) return result;
    return { ok: false, lines: [...result.lines, `expected a WWW-Authenticate challenge matching ${String(challenge)}`] };
  }

  let token = '';
  let readOnlyToken = '';
  // The DPoP steps: the demo's own key, the token bound to it, and the one proof it replays.
  const dpopKey = generateDpopKey('ES256');
  let boundToken = '';
  let capturedProof = '';
  const dpopSteps: Array<{ title: string; run: () => Promise<StepResult>; needsToken?: boolean }> = dpop === undefined ? [] : [
    {
      title: `Get a DPoP-bound token for the downstream (audience ${dpop.audience}) with a key of the demo's own`,
      run: async () => {
        const set = await tokenProvider(undefined, { audience: dpop.audience, key: dpopKey }).getTokenSet();
        boundToken = set.accessToken;
        const cnf = claimsOf(boundToken).cnf as { jkt?: unknown } | undefined;
        const bound = set.tokenType === 'DPoP' && cnf?.jkt === dpopKey.jkt;
        return {
          ok: bound,
          lines: [
            `POST ${client.tokenEndpoint}  grant_type=client_credentials, with a DPoP proof signed by the demo's ES256 key`,
            `-> a ${set.tokenType ?? 'Bearer'} token (not shown) with cnf.jkt ${String(cnf?.jkt)}: ${bound ? 'the thumbprint of the demo\'s key' : 'NOT the demo\'s key'}`,
          ],
        };
      },
    },
    {
      title: 'GET the DPoP-only downstream directly: Authorization: DPoP <token>, and a proof the demo signs for this request',
      run: async () => {
        if (boundToken === '') return { ok: false, lines: ['skipped: no DPoP-bound token (the step before failed)'] };
        capturedProof = createDpopProof({ key: dpopKey, htm: 'GET', htu: dpop.url, accessToken: boundToken });
        const answer = await call('GET', dpop.url, { authorization: `DPoP ${boundToken}`, dpopProof: capturedProof });
        const body = answer.body as { scheme?: unknown; jkt?: unknown };
        return expectStatus(answer, 200, answer.status === 200 ? `accepted with scheme ${String(body.scheme)}, key ${String(body.jkt)} (proof: htm GET, htu ${dpop.url}, ath = SHA-256 of the token)` : undefined);
      },
    },
    {
      title: 'Replay: the same request again, with the same captured proof (401 invalid_dpop_proof)',
      run: async () => {
        if (capturedProof === '') return { ok: false, lines: ['skipped: no proof was sent (the step before failed)'] };
        const answer = await call('GET', dpop.url, { authorization: `DPoP ${boundToken}`, dpopProof: capturedProof });
        const description = (answer.body as { error_description?: unknown }).error_description;
        return expectChallenge(
          answer, 401, /^DPoP error="invalid_dpop_proof"/,
          `${String(description)}: the downstream remembers each accepted proof's jti until the proof expires, so a captured proof works once`,
        );
      },
    },
    {
      title: 'The DPoP-bound token presented as a Bearer token, without a proof (401: the downstream accepts only DPoP)',
      run: async () => {
        if (boundToken === '') return { ok: false, lines: ['skipped: no DPoP-bound token'] };
        return expectChallenge(
          await call('GET', dpop.url, { authorization: `Bearer ${boundToken}` }), 401, /^DPoP algs="/,
          'refused: the token is bound to the demo\'s key, so whoever steals it cannot use it without that key',
        );
      },
    },
  ];
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
      title: 'GET /api/downstream-dpop: the API calls the DPoP-only downstream with a DPoP-bound token and a new proof',
      needsToken: true,
      run: async () => {
        const answer = await call('GET', '/api/downstream-dpop', { authorization: `Bearer ${token}` });
        const body = answer.body as { service?: unknown; caller?: unknown; scheme?: unknown };
        return expectStatus(
          answer,
          200,
          answer.status === 200 ? `service ${String(body.service)} saw caller ${String(body.caller)} with scheme ${String(body.scheme)}` : undefined,
        );
      },
    },
    ...dpopSteps,
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
