/**
 * `npm start`: runs the example API. With no issuer configured it starts an embedded local
 * authorization server and prints a demo client's credentials and curl commands to paste.
 *
 * About secrets: the only secret ever printed is the demo client's, in embedded mode. That client
 * exists only in this process's in-memory issuer, which trusts nothing outside it, and printing it
 * is the point (so the curl commands work as pasted). A CLIENT_SECRET from the environment is never
 * printed, and no token is ever logged.
 */
import { ConfigError, loadConfig, type ExampleConfig } from './config.js';
import { startExample, type RunningExample } from './start.js';

/** Single-quotes a value for a POSIX shell. */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_\-.:/@%+=,]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function banner(config: ExampleConfig, example: RunningExample): string {
  const lines: string[] = [];
  lines.push(`express-m2m example API listening on ${example.apiUrl}`);
  if (example.demoClient !== undefined && example.issuerUrl !== undefined) {
    const demo = example.demoClient;
    lines.push(`Embedded local issuer:      ${example.issuerUrl} (no ISSUER_BASE_URL set; tokens from it are valid only while this process runs)`);
    lines.push(`Downstream service:         ${example.downstreamUrl ?? '(none)'}`);
    if (example.dpopDownstreamUrl !== undefined) {
      lines.push(`DPoP-only downstream:       ${example.dpopDownstreamUrl} (RFC 9449: DPoP-bound tokens with a proof per request, no Bearer)`);
    }
    if (example.caFile !== undefined) {
      lines.push('mTLS mode (DOWNSTREAM_MTLS): the downstream accepts only certificate-bound tokens; the API gets them with');
      lines.push(`  its client certificate (tls_client_auth) and calls over it. The embedded issuer is https: trust ${example.caFile}`);
    }
    lines.push('');
    lines.push('Demo client (its secret is printed on purpose: it exists only in the embedded issuer of this process):');
    lines.push(`  CLIENT_ID=${demo.clientId}`);
    lines.push(`  CLIENT_SECRET=${demo.clientSecret}`);
    lines.push(`  AUDIENCE=${demo.audience}`);
    lines.push(`  TOKEN_ENDPOINT=${demo.tokenEndpoint}`);
    lines.push(`  scopes: ${demo.scopes.join(' ')}`);
    lines.push('');
    lines.push('Get a token (client credentials, client_secret_basic):');
    lines.push(
      `  TOKEN=$(curl -s ${example.caFile === undefined ? '' : `--cacert ${shellQuote(example.caFile)} `}-u ${shellQuote(`${demo.clientId}:${demo.clientSecret}`)} -d grant_type=client_credentials ` +
        `--data-urlencode ${shellQuote(`audience=${demo.audience}`)} ${shellQuote(demo.tokenEndpoint)} ` +
        `| node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token')`,
    );
    lines.push('');
    lines.push('Call the API:');
    lines.push(`  curl -s ${example.apiUrl}/api/public`);
    lines.push(`  curl -s -H "Authorization: Bearer $TOKEN" ${example.apiUrl}/api/orders`);
    lines.push(
      `  curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ` +
        `-d '{"item":"widget","quantity":2}' ${example.apiUrl}/api/orders`,
    );
    lines.push(`  curl -s -H "Authorization: Bearer $TOKEN" ${example.apiUrl}/api/downstream`);
    lines.push(`  curl -s -H "Authorization: Bearer $TOKEN" ${example.apiUrl}/api/downstream-dpop`);
    lines.push('');
    lines.push('Walk through everything in another terminal:');
    lines.push(
      `  ${example.caFile === undefined ? '' : `NODE_EXTRA_CA_CERTS=${shellQuote(example.caFile)} `}API_URL=${example.apiUrl} TOKEN_ENDPOINT=${shellQuote(demo.tokenEndpoint)} CLIENT_ID=${shellQuote(demo.clientId)} ` +
        `CLIENT_SECRET=${shellQuote(demo.clientSecret)} AUDIENCE=${shellQuote(demo.audience)} ` +
        // The demo calls the DPoP-only downstream itself (not in mTLS mode: it has no client certificate).
        (example.dpopDownstreamUrl === undefined || example.caFile !== undefined ? ''
          : `DPOP_DOWNSTREAM_URL=${shellQuote(example.dpopDownstreamUrl)} DOWNSTREAM_AUDIENCE=${shellQuote(example.downstreamAudience)} `) +
        'npm run demo',
    );
  } else {
    const issuer = config.issuer;
    lines.push(`Issuer:                     ${issuer.kind === 'discovery' ? issuer.issuerBaseURL : issuer.kind === 'explicit' ? `${issuer.issuer} (keys: ${issuer.jwksUri})` : ''}`);
    lines.push(`Audience:                   ${config.audience}`);
    lines.push(`Downstream service:         ${example.downstreamUrl ?? '(not configured: GET /api/downstream answers 503)'}`);
    if (config.outbound !== undefined) lines.push(`Outbound client:            ${config.outbound.clientId} (secret from CLIENT_SECRET, not shown)`);
    lines.push('');
    lines.push('Call the API with a token from your authorization server:');
    lines.push(`  curl -s ${example.apiUrl}/api/public`);
    lines.push(`  curl -s -H "Authorization: Bearer $TOKEN" ${example.apiUrl}/api/private`);
  }
  lines.push('');
  lines.push('Press Ctrl+C to stop.');
  return lines.join('\n');
}

async function main(): Promise<void> {
  let config: ExampleConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`example-api: configuration error: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }

  let example: RunningExample;
  try {
    example = await startExample(config, { log: (line) => process.stderr.write(`${line}\n`) });
  } catch (error) {
    process.stderr.write(`example-api: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`${banner(config, example)}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`example-api: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`example-api: ${signal} received, shutting down\n`);
    example.close().then(
      () => {
        process.stdout.write('example-api: stopped\n');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`example-api: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
