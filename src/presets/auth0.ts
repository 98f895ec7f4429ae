/**
 * The Auth0 preset: `requireAuth(auth0({ domain, audience }))` and
 * `clientCredentials(auth0.client({ domain, clientId, clientSecret, audience }))`.
 * Auth0's access tokens: `iss` `https://<domain>/` (with its trailing slash), `aud` the API's
 * Identifier (an array with `https://<domain>/userinfo` for user tokens), `azp` the client,
 * `gty: 'client-credentials'` for machine tokens, `scope` and, with RBAC, `permissions`.
 * See https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles
 */
import type { RequireAuthOptions } from '../express/require-auth-options.js';
import { OptionReader, type KnownOptions } from '../options/option-reader.js';
import type { ClientCredentialsOptions } from '../outbound/client-credentials-options.js';
import { clientRule, codeFor, holdsOneOf, presetReader, readBase, readList, refuse } from './preset-support.js';
import { readClientCredentials, type PresetClientCredentials } from './preset-client.js';

/**
 * Inputs of the {@link auth0} preset.
 *
 * @example
 * ```ts
 * import { auth0, requireAuth, type Auth0Options } from 'express-m2m';
 *
 * const options: Auth0Options = { domain: 'acme.eu.auth0.com', audience: 'https://orders.example.com' };
 * app.use(requireAuth(auth0(options)));
 * ```
 */
export interface Auth0Options {
  /**
   * The tenant's domain (`acme.eu.auth0.com`) or a custom domain (`login.acme.com`); a list when
   * tokens come through both (each is an issuer of its own). An absolute URL is accepted too
   * (`http://127.0.0.1:4000` for a local issuer). Required.
   */
  domain: string | readonly string[];
  /** The API's Identifier (Auth0 dashboard, APIs): the `aud` the tokens must hold. Required. */
  audience: string | readonly string[];
  /** Client ids allowed to call (checked against `azp`). Default: any client the API's tokens are issued to. */
  clients?: string | readonly string[];
}

/**
 * Inputs of {@link auth0.client}: the client's credentials, and the API to get tokens for.
 *
 * @example
 * ```ts
 * import { auth0, clientCredentials, type Auth0ClientOptions } from 'express-m2m';
 *
 * const options: Auth0ClientOptions = { domain: 'acme.eu.auth0.com', clientId: 'orders', clientSecret: process.env.SECRET ?? '', audience: 'https://billing.example.com' };
 * const billing = clientCredentials(auth0.client(options));
 * ```
 */
export interface Auth0ClientOptions extends PresetClientCredentials {
  /** The tenant's domain or custom domain (or an absolute URL). Required. */
  domain: string;
  /** The Identifier of the API to call: Auth0 issues client-credentials tokens for one API. Required. */
  audience: string;
  /** Scopes to ask for. Default: every permission the client was granted for the API. */
  scope?: string | string[];
}

const NAMES: KnownOptions<Auth0Options> = { domain: true, audience: true, clients: true };
const CLIENT_NAMES: KnownOptions<Auth0ClientOptions> = {
  domain: true, audience: true, scope: true, clientId: true, clientSecret: true, privateKey: true, privateKeyKid: true, privateKeyAlg: true,
};

function domains(read: OptionReader<Auth0Options>): string[] {
  const raw = read.raw('domain');
  const list = Array.isArray(raw) ? raw as unknown[] : [raw];
  if (raw === undefined || list.length === 0) read.required('domain', "the tenant's domain, like acme.eu.auth0.com");
  return list.map((value, index) => {
    const name = Array.isArray(raw) ? `domain[${index}]` : 'domain';
    const item = new OptionReader<Record<string, unknown>>({ [name]: value }, new Set([name]), { caller: read.caller });
    return readBase(item, name, 'acme.eu.auth0.com') as string;
  });
}

/**
 * `requireAuth` options for the access tokens of an Auth0 tenant: the issuer `https://<domain>/`,
 * its JWKS, and an `aud` check whose refusal says when the token is for another API (the
 * Management API, or none because the token request named no `audience`). Every other
 * `requireAuth` option still applies: spread the result (`{ ...auth0({...}), realm: 'orders' }`).
 * `scope` holds the scopes; with RBAC, `permissions` too (`requireRoles(p, { from: 'permissions' })`).
 *
 * @example
 * ```ts
 * import { auth0, requireAuth, requireScopes } from 'express-m2m';
 *
 * app.use(requireAuth(auth0({ domain: 'acme.eu.auth0.com', audience: 'https://orders.example.com' })));
 * app.get('/orders', requireScopes('read:orders'), handler);
 * ```
 */
export function auth0(options: Auth0Options): RequireAuthOptions {
  const read = presetReader<Auth0Options>(options, NAMES, 'auth0', 'requireAuth');
  const bases = domains(read);
  const audience = readList(read, 'audience', "the API's Identifier, from the Auth0 dashboard") as string[];
  const clients = readList(read, 'clients');
  const management = bases.map((base) => `${base}/api/v2/`);
  const claims: NonNullable<RequireAuthOptions['claims']> = {
    aud: (aud, payload) => {
      if (holdsOneOf(aud, audience)) return true;
      const why = aud === undefined
        ? 'the token has no audience: request it with the "audience" parameter set to this API\'s Identifier'
        : holdsOneOf(aud, management)
          ? "the token is for the Auth0 Management API, not this API: request it with \"audience\" set to this API's Identifier"
          : 'the token is for another API: request it with "audience" set to this API\'s Identifier (Auth0 dashboard, APIs)';
      return refuse(payload, 'aud', codeFor('aud', aud), why, audience.join(' '));
    },
    ...(clients === undefined ? {} : { azp: clientRule('azp', clients, 'Auth0') }),
  };
  const issuers = bases.map((base) => ({ issuer: `${base}/`, jwksUri: `${base}/.well-known/jwks.json` }));
  return issuers.length === 1 ? { ...(issuers[0] as { issuer: string; jwksUri: string }), claims } : { issuers, claims };
}

/**
 * `clientCredentials` options for an Auth0 tenant: the token endpoint `https://<domain>/oauth/token`,
 * the `audience` parameter Auth0 requires, and `client_secret_post` (the method Auth0 gives new
 * machine-to-machine applications; a `privateKey` uses `private_key_jwt`). Spread the result to
 * change anything (`bodyFormat: 'json'`, `authMethod: 'client_secret_basic'`, `cache`...).
 *
 * @example
 * ```ts
 * import { auth0, clientCredentials } from 'express-m2m';
 *
 * const billing = clientCredentials(auth0.client({
 *   domain: 'acme.eu.auth0.com', clientId: 'orders', clientSecret: process.env.BILLING_SECRET ?? '', audience: 'https://billing.example.com',
 * }));
 * ```
 */
auth0.client = function auth0Client(options: Auth0ClientOptions): ClientCredentialsOptions {
  const read = presetReader<Auth0ClientOptions>(options, CLIENT_NAMES, 'auth0.client', 'clientCredentials');
  const base = readBase(read, 'domain', 'acme.eu.auth0.com') ?? read.required('domain', "the tenant's domain, like acme.eu.auth0.com");
  const audience = read.string('audience') ?? read.required('audience', 'the Identifier of the API to call: Auth0 issues tokens for one API');
  const scope = read.stringList('scope', { string: 'split' });
  const credentials = readClientCredentials(read, 'client_secret_post');
  return { tokenEndpoint: `${base}/oauth/token`, ...credentials, audience, ...(scope === undefined ? {} : { scope }) };
};

/**
 * Where Auth0 puts a token's RBAC permissions ("Add Permissions in the Access Token"): for
 * `requireRoles(permission, { from: auth0.permissions })`.
 *
 * @example
 * ```ts
 * app.delete('/orders/:id', requireRoles('delete:orders', { from: auth0.permissions }), handler);
 * ```
 */
auth0.permissions = 'permissions' as const;
