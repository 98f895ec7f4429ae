/**
 * The Keycloak preset: `requireAuth(keycloak({ baseURL, realm, audience }))` and
 * `clientCredentials(keycloak.client({ baseURL, realm, clientId, clientSecret }))`.
 * Keycloak's access tokens: `iss` `<base>/realms/<realm>`, the client in `azp`, `typ: 'Bearer'`
 * (ID tokens say `'ID'`), realm roles in `realm_access.roles`, client roles in
 * `resource_access.<client>.roles`, and an `aud` only when an audience mapper adds one.
 * See https://www.keycloak.org/docs/latest/server_admin/#audience-support
 */
import type { RequireAuthOptions } from '../express/require-auth-options.js';
import type { KnownOptions, OptionReader } from '../options/option-reader.js';
import type { ClientCredentialsOptions } from '../outbound/client-credentials-options.js';
import { readClientCredentials, type PresetClientCredentials } from './preset-client.js';
import { clientRule, codeFor, holdsOneOf, presetReader, readList, refuse } from './preset-support.js';

/**
 * Inputs of the {@link keycloak} preset.
 *
 * @example
 * ```ts
 * import { keycloak, requireAuth, type KeycloakOptions } from 'express-m2m';
 *
 * const options: KeycloakOptions = { baseURL: 'https://sso.acme.com', realm: 'shop', audience: 'orders-api' };
 * app.use(requireAuth(keycloak(options)));
 * ```
 */
export interface KeycloakOptions {
  /** The server's URL, with `/auth` for Keycloak before version 17 (`https://sso.acme.com`). Required. */
  baseURL: string;
  /** The realm. Required. */
  realm: string;
  /**
   * The `aud` the tokens must hold: the client id of this API, added by an Audience mapper (Keycloak
   * puts no audience of yours in access tokens without one). Required.
   */
  audience: string | readonly string[];
  /** Client ids allowed to call, checked against `azp`. Default: any. */
  clients?: string | readonly string[];
}

/**
 * Inputs of {@link keycloak.client}.
 *
 * @example
 * ```ts
 * import { clientCredentials, keycloak, type KeycloakClientOptions } from 'express-m2m';
 *
 * const options: KeycloakClientOptions = { baseURL: 'https://sso.acme.com', realm: 'shop', clientId: 'orders', clientSecret: process.env.SECRET ?? '' };
 * const billing = clientCredentials(keycloak.client(options));
 * ```
 */
export interface KeycloakClientOptions extends PresetClientCredentials {
  /** The server's URL. Required. */
  baseURL: string;
  /** The realm. Required. */
  realm: string;
  /** Scopes to ask for (optional client scopes). Default: the client's default scopes. */
  scope?: string | string[];
}

const REALM = /^[A-Za-z0-9._~-]+$/;
const NAMES: KnownOptions<KeycloakOptions> = { baseURL: true, realm: true, audience: true, clients: true };
const CLIENT_NAMES: KnownOptions<KeycloakClientOptions> = {
  baseURL: true, realm: true, scope: true, clientId: true, clientSecret: true, privateKey: true, privateKeyKid: true, privateKeyAlg: true,
};

function realmURL<T extends { baseURL: string; realm: string }>(read: OptionReader<T>): string {
  const base = read.httpUrl('baseURL') ?? read.required('baseURL', "the Keycloak server's URL, like https://sso.acme.com");
  const realm = read.string('realm') ?? read.required('realm', 'the realm whose tokens are accepted');
  if (!REALM.test(realm)) read.fail('realm', 'must be a realm name (letters, digits, ".", "_", "~", "-")');
  return `${base.replace(/\/+$/, '')}/realms/${realm}`;
}

/**
 * `requireAuth` options for the access tokens of a Keycloak realm: its issuer and keys
 * (`/protocol/openid-connect/certs`), `aud` (a token without one is refused with how to add an
 * Audience mapper), and `typ: 'Bearer'` (an ID token sent instead is refused, saying so). Realm
 * and client roles are for `requireRoles(role, { from: keycloak.realmRoles })` or
 * `keycloak.clientRoles('<client>')`. Spread the result to add any other option.
 *
 * @example
 * ```ts
 * import { keycloak, requireAuth, requireRoles } from 'express-m2m';
 *
 * app.use(requireAuth(keycloak({ baseURL: 'https://sso.acme.com', realm: 'shop', audience: 'orders-api' })));
 * app.get('/orders', requireRoles('reader', { from: keycloak.clientRoles('orders-api') }), handler);
 * ```
 */
export function keycloak(options: KeycloakOptions): RequireAuthOptions {
  const read = presetReader<KeycloakOptions>(options, NAMES, 'keycloak', 'requireAuth');
  const issuer = realmURL(read);
  const audience = readList(read, 'audience', "this API's client id, which an Audience mapper puts in the tokens' 'aud'") as string[];
  const clients = readList(read, 'clients');
  const mapper = `add an Audience mapper (Clients, the caller's client, Client scopes, its dedicated scope, Add mapper, Audience) with Included Client Audience "${audience[0] as string}"`;
  const claims: NonNullable<RequireAuthOptions['claims']> = {
    typ: (typ, payload) => typ === undefined || typ === 'Bearer' || refuse(payload, 'typ', 'ERR_JWT_CLAIM_INVALID', typ === 'ID'
      ? 'this is a Keycloak ID token (typ "ID"): send the access token of the token response instead'
      : 'the token is not a Keycloak access token (its typ claim is not "Bearer")', 'Bearer'),
    aud: (aud, payload) => holdsOneOf(aud, audience) || refuse(payload, 'aud', codeFor('aud', aud), aud === undefined
      ? `the token has no audience: Keycloak adds one only through a mapper: ${mapper}`
      : `the token is for another audience (Keycloak's default is "account"): ${mapper}`, audience.join(' ')),
    ...(clients === undefined ? {} : { azp: clientRule('azp', clients, 'Keycloak') }),
  };
  return { issuer, jwksUri: `${issuer}/protocol/openid-connect/certs`, claims };
}

/**
 * `clientCredentials` options for a Keycloak realm: the token endpoint
 * `<base>/realms/<realm>/protocol/openid-connect/token` and `client_secret_basic` ("Client Id
 * and Secret"; a `privateKey` uses `private_key_jwt`, "Signed JWT").
 *
 * @example
 * ```ts
 * import { clientCredentials, keycloak } from 'express-m2m';
 *
 * const billing = clientCredentials(keycloak.client({ baseURL: 'https://sso.acme.com', realm: 'shop', clientId: 'orders', clientSecret: process.env.ORDERS_SECRET ?? '' }));
 * ```
 */
keycloak.client = function keycloakClient(options: KeycloakClientOptions): ClientCredentialsOptions {
  const read = presetReader<KeycloakClientOptions>(options, CLIENT_NAMES, 'keycloak.client', 'clientCredentials');
  const issuer = realmURL(read);
  const scope = read.stringList('scope', { string: 'split' });
  return { tokenEndpoint: `${issuer}/protocol/openid-connect/token`, ...readClientCredentials(read, 'client_secret_basic'), ...(scope === undefined ? {} : { scope }) };
};

/**
 * Where a Keycloak token's realm roles are (`realm_access.roles`): for `requireRoles(role, { from: keycloak.realmRoles })`.
 *
 * @example
 * ```ts
 * app.get('/admin', requireRoles('admin', { from: keycloak.realmRoles }), handler);
 * ```
 */
keycloak.realmRoles = Object.freeze(['realm_access', 'roles'] as const);

/**
 * Where a Keycloak token's roles of one client are (`resource_access.<clientId>.roles`): for
 * `requireRoles(role, { from: keycloak.clientRoles('orders-api') })`.
 *
 * @example
 * ```ts
 * app.get('/orders', requireRoles('reader', { from: keycloak.clientRoles('orders-api') }), handler);
 * ```
 */
keycloak.clientRoles = (clientId: string): readonly ['resource_access', string, 'roles'] => {
  if (typeof clientId !== 'string' || clientId === '') throw new TypeError('keycloak.clientRoles: "clientId" must be a non-empty string');
  return Object.freeze(['resource_access', clientId, 'roles'] as const);
};
