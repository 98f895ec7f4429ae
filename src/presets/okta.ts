/**
 * The Okta preset: `requireAuth(okta({ domain, audience }))` and
 * `clientCredentials(okta.client({ domain, clientId, clientSecret, scope }))`.
 * Okta's access tokens from a custom authorization server: `iss`
 * `https://<domain>/oauth2/<authorizationServerId>` (`default` for the default one), `aud` the
 * server's audience (`api://default`), scopes in `scp` as an array, the client in `cid`.
 * See https://developer.okta.com/docs/api/oauth2/ and
 * https://developer.okta.com/docs/guides/validate-access-tokens/
 */
import type { RequireAuthOptions } from '../express/require-auth-options.js';
import type { KnownOptions, OptionReader } from '../options/option-reader.js';
import type { ClientCredentialsOptions } from '../outbound/client-credentials-options.js';
import { readClientCredentials, type PresetClientCredentials } from './preset-client.js';
import { clientRule, codeFor, holdsOneOf, presetReader, readBase, readList, refuse } from './preset-support.js';

/**
 * Inputs of the {@link okta} preset.
 *
 * @example
 * ```ts
 * import { okta, requireAuth, type OktaOptions } from 'express-m2m';
 *
 * const options: OktaOptions = { domain: 'acme.okta.com', authorizationServerId: 'aus1orders', audience: 'api://orders' };
 * app.use(requireAuth(okta(options)));
 * ```
 */
export interface OktaOptions {
  /** The Okta domain (`acme.okta.com`, or a custom domain); an absolute URL is accepted too. Required. */
  domain: string;
  /** The custom authorization server's id. Default `'default'`. */
  authorizationServerId?: string;
  /** The authorization server's audience (Security, API, the server's settings). Default `'api://default'` for the `default` server; required for others. */
  audience?: string | readonly string[];
  /** Client ids allowed to call, checked against `cid`. Default: any. */
  clients?: string | readonly string[];
}

/**
 * Inputs of {@link okta.client}.
 *
 * @example
 * ```ts
 * import { clientCredentials, okta, type OktaClientOptions } from 'express-m2m';
 *
 * const options: OktaClientOptions = { domain: 'acme.okta.com', clientId: '0oa1...', clientSecret: process.env.SECRET ?? '', scope: 'orders:read' };
 * const orders = clientCredentials(okta.client(options));
 * ```
 */
export interface OktaClientOptions extends PresetClientCredentials {
  /** The Okta domain; an absolute URL is accepted too. Required. */
  domain: string;
  /** The custom authorization server's id. Default `'default'`. */
  authorizationServerId?: string;
  /** The scopes to ask for: Okta requires at least one custom scope for client credentials. Required. */
  scope: string | string[];
}

const SERVER = /^[A-Za-z0-9_-]+$/;
const NAMES: KnownOptions<OktaOptions> = { domain: true, authorizationServerId: true, audience: true, clients: true };
const CLIENT_NAMES: KnownOptions<OktaClientOptions> = {
  domain: true, authorizationServerId: true, scope: true, clientId: true, clientSecret: true, privateKey: true, privateKeyKid: true, privateKeyAlg: true,
};

function issuerOf<T extends { domain: string; authorizationServerId?: string }>(read: OptionReader<T>): string {
  const base = readBase(read, 'domain', 'acme.okta.com') ?? read.required('domain', 'the Okta domain, like acme.okta.com');
  const server = read.string('authorizationServerId') ?? 'default';
  if (!SERVER.test(server)) read.fail('authorizationServerId', "must be an authorization server id like 'default' or 'aus1a2b3c4d5'");
  return `${base}/oauth2/${server}`;
}

/**
 * `requireAuth` options for the access tokens of an Okta custom authorization server: its issuer,
 * its keys (`/v1/keys`), its audience, and scopes read from `scp`. Tokens of the Okta org
 * authorization server (issuer `https://<domain>`) are for Okta's own APIs and are refused.
 * Spread the result to add any other option.
 *
 * @example
 * ```ts
 * import { okta, requireAuth, requireScopes } from 'express-m2m';
 *
 * app.use(requireAuth(okta({ domain: 'acme.okta.com' })));
 * app.get('/orders', requireScopes('orders:read'), handler);
 * ```
 */
export function okta(options: OktaOptions): RequireAuthOptions {
  const read = presetReader<OktaOptions>(options, NAMES, 'okta', 'requireAuth');
  const issuer = issuerOf(read);
  const server = read.string('authorizationServerId') ?? 'default';
  const audience = readList(read, 'audience', server === 'default' ? undefined : "the authorization server's audience, like api://orders")
    ?? ['api://default'];
  const clients = readList(read, 'clients');
  const claims: NonNullable<RequireAuthOptions['claims']> = {
    aud: (aud, payload) => holdsOneOf(aud, audience) || refuse(payload, 'aud', codeFor('aud', aud),
      "the token is for another audience: the authorization server's Audience (its Settings in the Okta admin console) must be this API's, or list it in \"audience\"",
      audience.join(' ')),
    ...(clients === undefined ? {} : { cid: clientRule('cid', clients, 'Okta') }),
  };
  return { issuer, jwksUri: `${issuer}/v1/keys`, scopeClaim: 'scp', claims };
}

/**
 * `clientCredentials` options for an Okta custom authorization server: the token endpoint
 * `https://<domain>/oauth2/<server>/v1/token`, the scopes (Okta requires them), and
 * `client_secret_basic` (a `privateKey` uses `private_key_jwt`).
 *
 * @example
 * ```ts
 * import { clientCredentials, okta } from 'express-m2m';
 *
 * const orders = clientCredentials(okta.client({ domain: 'acme.okta.com', clientId: '0oa1example', clientSecret: process.env.ORDERS_SECRET ?? '', scope: 'orders:read' }));
 * ```
 */
okta.client = function oktaClient(options: OktaClientOptions): ClientCredentialsOptions {
  const read = presetReader<OktaClientOptions>(options, CLIENT_NAMES, 'okta.client', 'clientCredentials');
  const issuer = issuerOf(read);
  const scope = read.stringList('scope', { string: 'split' }) ?? read.required('scope', 'Okta issues client-credentials tokens only for custom scopes');
  return { tokenEndpoint: `${issuer}/v1/token`, ...readClientCredentials(read, 'client_secret_basic'), scope };
};
