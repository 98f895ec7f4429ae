/**
 * The Amazon Cognito preset: `requireAuth(cognito({ userPoolId, clients }))` and
 * `clientCredentials(cognito.client({ domain, clientId, clientSecret, scope }))`.
 * Cognito's access tokens: `iss` `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`, no
 * `aud` (the app client is in `client_id`), `token_use: 'access'` (ID tokens say `'id'` and
 * carry the client in `aud`), scopes in `scope` as `<resource server>/<scope>`.
 * See https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html
 */
import type { RequireAuthOptions } from '../express/require-auth-options.js';
import type { KnownOptions } from '../options/option-reader.js';
import type { ClientCredentialsOptions } from '../outbound/client-credentials-options.js';
import { readClientCredentials, type PresetClientCredentials } from './preset-client.js';
import { clientRule, codeFor, holdsOneOf, presetReader, readBase, readList, readUrl, refuse } from './preset-support.js';

/**
 * Inputs of the {@link cognito} preset.
 *
 * @example
 * ```ts
 * import { cognito, requireAuth, type CognitoOptions } from 'express-m2m';
 *
 * const options: CognitoOptions = { userPoolId: 'eu-west-1_AbCdEf123', clients: ['4e7a1bq3...'] };
 * app.use(requireAuth(cognito(options)));
 * ```
 */
export interface CognitoOptions {
  /** The user pool id, `<region>_<id>` (`eu-west-1_AbCdEf123`). Required. */
  userPoolId: string;
  /**
   * The app client ids allowed to call, checked against `client_id`: Cognito access tokens have
   * no `aud`, so this allowlist is what says the token is meant for you. Required.
   */
  clients: string | readonly string[];
  /** The region. Default: the prefix of `userPoolId`. */
  region?: string;
  /** An `aud` to require as well (only when your tokens carry one). Default: `aud` is not checked. */
  audience?: string | readonly string[];
  /** Base URL of the user pools service (a local issuer in tests). Default `https://cognito-idp.<region>.amazonaws.com`. */
  idpBaseURL?: string;
}

/**
 * Inputs of {@link cognito.client}.
 *
 * @example
 * ```ts
 * import { clientCredentials, cognito, type CognitoClientOptions } from 'express-m2m';
 *
 * const options: CognitoClientOptions = { domain: 'acme.auth.eu-west-1.amazoncognito.com', clientId: '4e7a...', clientSecret: process.env.SECRET ?? '', scope: 'orders/read' };
 * const orders = clientCredentials(cognito.client(options));
 * ```
 */
export interface CognitoClientOptions extends PresetClientCredentials {
  /**
   * The user pool's domain: the prefix domain (`acme.auth.eu-west-1.amazoncognito.com`) or a
   * custom domain (`auth.acme.com`); an absolute URL is accepted too. Required.
   */
  domain: string;
  /** Scopes to ask for, `<resource server>/<scope>`. Default: every scope the app client may have. */
  scope?: string | string[];
}

const POOL = /^([a-z]{2}(?:-[a-z]+)+-\d)_[0-9a-zA-Z]+$/;
const NAMES: KnownOptions<CognitoOptions> = { userPoolId: true, clients: true, region: true, audience: true, idpBaseURL: true };
const CLIENT_NAMES: KnownOptions<CognitoClientOptions> = {
  domain: true, scope: true, clientId: true, clientSecret: true, privateKey: true, privateKeyKid: true, privateKeyAlg: true,
};

/**
 * `requireAuth` options for the access tokens of an Amazon Cognito user pool: its issuer and
 * JWKS, `token_use` must be `access` (an ID token sent instead is refused, saying so), and
 * `client_id` one of `clients` in place of the `aud` Cognito's access tokens do not carry.
 * Scopes are read from `scope` (`requireScopes('orders/read')`); groups are in `cognito:groups`
 * (`requireRoles('admins', { from: cognito.groups })`). Spread the result to add any other option.
 *
 * @example
 * ```ts
 * import { cognito, requireAuth, requireScopes } from 'express-m2m';
 *
 * app.use(requireAuth(cognito({ userPoolId: 'eu-west-1_AbCdEf123', clients: '4e7a1bq3example' })));
 * app.get('/orders', requireScopes('orders/read'), handler);
 * ```
 */
export function cognito(options: CognitoOptions): RequireAuthOptions {
  const read = presetReader<CognitoOptions>(options, NAMES, 'cognito', 'requireAuth');
  const userPoolId = read.string('userPoolId') ?? read.required('userPoolId', 'the user pool id, like eu-west-1_AbCdEf123');
  const pool = POOL.exec(userPoolId) ?? read.fail('userPoolId', 'must be a user pool id, <region>_<id> like eu-west-1_AbCdEf123');
  const region = read.string('region') ?? (pool[1] as string);
  if (!/^[a-z]{2}(?:-[a-z]+)+-\d$/.test(region)) read.fail('region', 'must be an AWS region like eu-west-1');
  const clients = readList(read, 'clients', "Cognito access tokens have no 'aud': the app client ids in 'client_id' say who may call") as string[];
  const audience = readList(read, 'audience');
  const base = readUrl(read, 'idpBaseURL', `https://cognito-idp.${region}.amazonaws.com`);
  const issuer = `${base}/${userPoolId}`;
  const claims: NonNullable<RequireAuthOptions['claims']> = {
    // First: an ID token (which has an 'aud' and no 'client_id') is named for what it is.
    token_use: (use, payload) => use === 'access' || refuse(payload, 'token_use', codeFor('token_use', use), use === 'id'
      ? 'this is a Cognito ID token (token_use "id"): send the access token of the token response instead'
      : "the token is not a Cognito access token (its 'token_use' claim is not \"access\")", 'access'),
    client_id: clientRule('client_id', clients, 'Cognito'),
    aud: audience === undefined
      ? () => true
      : (aud, payload) => holdsOneOf(aud, audience) || refuse(payload, 'aud', codeFor('aud', aud), 'the token is for another audience', audience.join(' ')),
  };
  return { issuer, jwksUri: `${issuer}/.well-known/jwks.json`, claims };
}

/**
 * `clientCredentials` options for an Amazon Cognito user pool: the token endpoint
 * `https://<domain>/oauth2/token` of the pool's domain, and `client_secret_basic`, the
 * authentication Cognito asks of confidential app clients.
 *
 * @example
 * ```ts
 * import { clientCredentials, cognito } from 'express-m2m';
 *
 * const orders = clientCredentials(cognito.client({
 *   domain: 'acme.auth.eu-west-1.amazoncognito.com', clientId: '4e7a1bq3example', clientSecret: process.env.ORDERS_SECRET ?? '', scope: 'orders/read',
 * }));
 * ```
 */
cognito.client = function cognitoClient(options: CognitoClientOptions): ClientCredentialsOptions {
  const read = presetReader<CognitoClientOptions>(options, CLIENT_NAMES, 'cognito.client', 'clientCredentials');
  const base = readBase(read, 'domain', 'acme.auth.eu-west-1.amazoncognito.com')
    ?? read.required('domain', "the user pool's domain, like acme.auth.eu-west-1.amazoncognito.com");
  const scope = read.stringList('scope', { string: 'split' });
  return { tokenEndpoint: `${base}/oauth2/token`, ...readClientCredentials(read, 'client_secret_basic'), ...(scope === undefined ? {} : { scope }) };
};

/**
 * Where Cognito puts a user's groups: for `requireRoles(group, { from: cognito.groups })`.
 *
 * @example
 * ```ts
 * app.delete('/orders/:id', requireRoles('admins', { from: cognito.groups }), handler);
 * ```
 */
cognito.groups = 'cognito:groups' as const;
