/**
 * The example API's configuration: every environment variable is read, checked and defaulted here
 * and nowhere else. A bad or contradictory environment fails at start-up with a message that names
 * the variable (and never repeats a secret).
 */

/** How the API learns which tokens to trust. */
export type IssuerSettings =
  /** No issuer configured: the example starts its own local authorization server. */
  | { kind: 'embedded' }
  /** `ISSUER_BASE_URL`: `iss`, `jwks_uri` and `token_endpoint` come from discovery. */
  | { kind: 'discovery'; issuerBaseURL: string }
  /** `ISSUER` + `JWKS_URI`: no discovery. */
  | { kind: 'explicit'; issuer: string; jwksUri: string };

/** How `GET /api/downstream` gets its client-credentials token and where it sends it. */
export interface OutboundSettings {
  /** `TOKEN_ENDPOINT`; undefined means "discover it from `ISSUER_BASE_URL`". */
  tokenEndpoint: string | undefined;
  /** `CLIENT_ID`. */
  clientId: string;
  /** `CLIENT_SECRET`. Never printed. */
  clientSecret: string;
  /** `CLIENT_AUTH_METHOD`; undefined means the library's default. */
  authMethod: ClientAuthMethod | undefined;
  /** `DOWNSTREAM_URL`; undefined means "start the built-in downstream service". */
  downstreamUrl: string | undefined;
  /** `DOWNSTREAM_AUDIENCE`: the `audience` requested for the downstream's tokens. */
  downstreamAudience: string;
}

/** The client authentication methods `CLIENT_AUTH_METHOD` accepts. */
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;
/** A value of `CLIENT_AUTH_METHOD`. */
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/** Everything the example needs to start. */
export interface ExampleConfig {
  /** `PORT`, default 3000; 0 picks a free port. */
  port: number;
  /** `HOST`, default `127.0.0.1`. */
  host: string;
  /** Where tokens come from. */
  issuer: IssuerSettings;
  /** `AUDIENCE`: the API's identifier, required in `aud`. */
  audience: string;
  /** `DOWNSTREAM_AUDIENCE` in embedded mode (outbound settings are then made up by the example). */
  downstreamAudience: string;
  /**
   * Outbound settings when configured by env; undefined in embedded mode (the example registers its
   * own client) and when no outbound variable is set at all (`/api/downstream` then answers 503).
   */
  outbound: OutboundSettings | undefined;
  /**
   * `DOWNSTREAM_MTLS=true` (embedded issuer only): the issuer serves https with mutual TLS, the
   * downstream requires certificate-bound tokens, and the API calls it with a client certificate.
   */
  downstreamMtls: boolean;
}

/** Default API identifier (`aud`) in embedded mode. */
export const DEFAULT_AUDIENCE = 'https://api.example.com';
/** Default downstream identifier in embedded mode. */
export const DEFAULT_DOWNSTREAM_AUDIENCE = 'https://downstream.example.com';
/** Default port. */
export const DEFAULT_PORT = 3000;

/** The start-up environment is unusable. `problems` lists one message per variable. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Outbound variables: setting any of them asks for the outbound side to be configured by env. */
const OUTBOUND_VARIABLES = [
  'TOKEN_ENDPOINT',
  'CLIENT_ID',
  'CLIENT_SECRET',
  'CLIENT_AUTH_METHOD',
  'DOWNSTREAM_URL',
] as const;

/**
 * Reads the configuration from `env` (default `process.env`). Empty values count as unset.
 * Throws a {@link ConfigError} naming every bad variable.
 *
 * @example
 * const config = loadConfig({ ISSUER_BASE_URL: 'https://tenant.eu.auth0.com/', AUDIENCE: 'https://api' });
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): ExampleConfig {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const url = (name: string): string | undefined => {
    const value = get(name);
    if (value === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      problems.push(`${name} must be an absolute http(s) URL, got ${JSON.stringify(value)}`);
      return undefined;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      problems.push(`${name} must be an http or https URL, got ${JSON.stringify(value)}`);
      return undefined;
    }
    if (parsed.username !== '' || parsed.password !== '') {
      // Credentials in a URL end up in logs; and we would have to redact the value in this message.
      problems.push(`${name} must not contain a user name or password`);
      return undefined;
    }
    return value;
  };

  // PORT, HOST
  let port = DEFAULT_PORT;
  const rawPort = get('PORT');
  if (rawPort !== undefined) {
    if (!/^\d{1,5}$/.test(rawPort) || Number(rawPort) > 65535) {
      problems.push(`PORT must be an integer from 0 to 65535 (0 picks a free port), got ${JSON.stringify(rawPort)}`);
    } else {
      port = Number(rawPort);
    }
  }
  const host = get('HOST') ?? '127.0.0.1';

  // Inbound: which issuer
  const issuerBaseURL = url('ISSUER_BASE_URL');
  const issuerValue = get('ISSUER');
  const jwksUri = url('JWKS_URI');
  const anyIssuerVariable = ['ISSUER_BASE_URL', 'ISSUER', 'JWKS_URI'].some((name) => get(name) !== undefined);
  let issuer: IssuerSettings = { kind: 'embedded' };
  if (get('ISSUER_BASE_URL') !== undefined) {
    if (get('ISSUER') !== undefined || get('JWKS_URI') !== undefined) {
      problems.push('ISSUER_BASE_URL cannot be combined with ISSUER or JWKS_URI: set either ISSUER_BASE_URL (discovery), or ISSUER and JWKS_URI');
    } else if (issuerBaseURL !== undefined) {
      issuer = { kind: 'discovery', issuerBaseURL };
    }
  } else if (issuerValue !== undefined || get('JWKS_URI') !== undefined) {
    if (issuerValue === undefined) problems.push('JWKS_URI is set but ISSUER is not: set both ISSUER and JWKS_URI, or ISSUER_BASE_URL instead');
    if (get('JWKS_URI') === undefined) problems.push('ISSUER is set but JWKS_URI is not: set both ISSUER and JWKS_URI, or ISSUER_BASE_URL instead');
    if (issuerValue !== undefined && jwksUri !== undefined) issuer = { kind: 'explicit', issuer: issuerValue, jwksUri };
  }
  const embedded = !anyIssuerVariable;

  // AUDIENCE
  const audience = get('AUDIENCE');
  if (!embedded && audience === undefined) {
    problems.push('AUDIENCE is required when an issuer is configured (ISSUER_BASE_URL, or ISSUER and JWKS_URI): set it to the API identifier your tokens carry in "aud"');
  }
  const downstreamAudience = get('DOWNSTREAM_AUDIENCE');

  // Outbound
  let outbound: OutboundSettings | undefined;
  const outboundSet = OUTBOUND_VARIABLES.filter((name) => get(name) !== undefined);
  if (embedded) {
    for (const name of outboundSet) {
      problems.push(
        `${name} is set but no issuer is configured: the embedded issuer makes its own client and downstream. ` +
          'Set ISSUER_BASE_URL (or ISSUER and JWKS_URI) and AUDIENCE to use your own authorization server, or unset ' + name,
      );
    }
  } else if (outboundSet.length > 0 || downstreamAudience !== undefined) {
    const tokenEndpoint = url('TOKEN_ENDPOINT');
    const downstreamUrl = url('DOWNSTREAM_URL');
    const clientId = get('CLIENT_ID');
    const clientSecret = get('CLIENT_SECRET');
    const rawMethod = get('CLIENT_AUTH_METHOD');
    const why = `(needed for GET /api/downstream; set with ${[...outboundSet, ...(downstreamAudience ? ['DOWNSTREAM_AUDIENCE'] : [])].join(', ')})`;
    if (clientId === undefined) problems.push(`CLIENT_ID is required ${why}`);
    if (clientSecret === undefined) problems.push(`CLIENT_SECRET is required ${why}`);
    if (downstreamAudience === undefined) problems.push(`DOWNSTREAM_AUDIENCE is required ${why}: the audience of the tokens requested for the downstream service`);
    if (get('TOKEN_ENDPOINT') === undefined && issuer.kind !== 'discovery' && get('ISSUER_BASE_URL') === undefined) {
      problems.push(`TOKEN_ENDPOINT is required ${why} when the issuer is given as ISSUER and JWKS_URI (it can only be discovered from ISSUER_BASE_URL)`);
    }
    let authMethod: ClientAuthMethod | undefined;
    if (rawMethod !== undefined) {
      if ((CLIENT_AUTH_METHODS as readonly string[]).includes(rawMethod)) authMethod = rawMethod as ClientAuthMethod;
      else problems.push(`CLIENT_AUTH_METHOD must be one of ${CLIENT_AUTH_METHODS.join(', ')}, got ${JSON.stringify(rawMethod)}`);
    }
    if (clientId !== undefined && clientSecret !== undefined && downstreamAudience !== undefined) {
      outbound = { tokenEndpoint, clientId, clientSecret, authMethod, downstreamUrl, downstreamAudience };
    }
  }

  // DOWNSTREAM_MTLS
  const rawMtls = get('DOWNSTREAM_MTLS');
  let downstreamMtls = false;
  if (rawMtls !== undefined) {
    if (!['true', 'false', '1', '0'].includes(rawMtls)) problems.push(`DOWNSTREAM_MTLS must be true or false, got ${JSON.stringify(rawMtls)}`);
    else downstreamMtls = rawMtls === 'true' || rawMtls === '1';
    if (downstreamMtls && !embedded) {
      problems.push('DOWNSTREAM_MTLS applies only to the embedded issuer (it makes the certificates): unset it, or unset ISSUER_BASE_URL / ISSUER and JWKS_URI');
    }
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host,
    issuer,
    audience: audience ?? DEFAULT_AUDIENCE,
    downstreamAudience: downstreamAudience ?? DEFAULT_DOWNSTREAM_AUDIENCE,
    outbound,
    downstreamMtls,
  };
}
