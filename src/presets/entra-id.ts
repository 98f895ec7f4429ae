/**
 * The Microsoft Entra ID preset: `requireAuth(entraId({ tenant, audience }))` and
 * `clientCredentials(entraId.client({ tenant, clientId, clientSecret, scope }))`.
 * Entra's access tokens: v2.0 (`iss` `https://login.microsoftonline.com/<tenant id>/v2.0`, client
 * in `azp`) or v1.0 (`iss` `https://sts.windows.net/<tenant id>/`, client in `appid`), as the API's
 * app registration asks (`accessTokenAcceptedVersion`); `aud` the API's application id (v2.0)
 * or App ID URI (v1.0); `tid` the tenant; app permissions in `roles`, delegated ones in `scp`.
 * See https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens
 */
import type { RequireAuthOptions } from '../express/require-auth-options.js';
import type { IssuerOptions } from '../inbound/issuers/issuer-options.js';
import { createKeySource } from '../keys/create-key-source.js';
import type { KeySource } from '../keys/types.js';
import type { FetchLike } from '../transport/fetch-like.js';
import type { KnownOptions } from '../options/option-reader.js';
import type { ClientCredentialsOptions } from '../outbound/client-credentials-options.js';
import { readClientCredentials, type PresetClientCredentials } from './preset-client.js';
import { codeFor, holdsOneOf, presetReader, readList, readUrl, refuse } from './preset-support.js';

/**
 * An Entra ID access token version: which one the API's app registration asks for
 * (`accessTokenAcceptedVersion` in its manifest: `2` for v2.0, `null` or `1` for v1.0).
 *
 * @example
 * ```ts
 * const version: EntraTokenVersion = '2.0';
 * ```
 */
export type EntraTokenVersion = '1.0' | '2.0';

/**
 * Inputs of the {@link entraId} preset.
 *
 * @example
 * ```ts
 * import { entraId, requireAuth, type EntraIdOptions } from 'express-m2m';
 *
 * const options: EntraIdOptions = { tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47', audience: ['api://orders', 'c1f3a3a8-0d5e-4c8e-9b8a-2b1b6c1f0a11'] };
 * app.use(requireAuth(entraId(options)));
 * ```
 */
export interface EntraIdOptions {
  /**
   * The tenant id (a GUID) whose tokens are accepted, or a list of them for a multi-tenant API.
   * Required unless `anyTenant` is `true`.
   */
  tenant?: string | readonly string[];
  /**
   * `true` accepts the tokens of every Entra tenant (a multi-tenant API that admits any
   * organization: check `tid` yourself, in a guard or `isRevoked`). The issuer is the
   * `{tenantid}` template of Entra's discovery document filled in with the token's own `tid`;
   * the keys are Entra's common keys (`/common/discovery/v2.0/keys`), one key source shared by
   * every tenant, so a token naming a made-up tenant costs no request. Each key's own `issuer`
   * (a member of Entra's JWKs) is checked too: a key that names one tenant never verifies another
   * tenant's token (`ERR_KEY_ISSUER_MISMATCH`). Default `false`.
   */
  anyTenant?: boolean;
  /**
   * The API's identifiers the `aud` must hold: its application (client) id, which v2.0 tokens
   * carry, and/or its App ID URI (`api://...`), which v1.0 tokens carry. Required.
   */
  audience: string | readonly string[];
  /** The token versions accepted: `'2.0'`, `'1.0'` or `'both'`. Default `'2.0'`. */
  version?: EntraTokenVersion | 'both';
  /** Client (application) ids allowed to call, checked against `azp` (v2.0) or `appid` (v1.0). Default: any. */
  clients?: string | readonly string[];
  /** The sign-in authority (a national cloud, or a local issuer in tests). Default `https://login.microsoftonline.com`. */
  loginBaseURL?: string;
  /** The issuer host of v1.0 tokens. Default `https://sts.windows.net`. */
  stsBaseURL?: string;
  /**
   * The transport of key requests (a proxy, a pinned CA): also returned as the `fetch` option, so
   * that `requireAuth` uses it too. Default: the global `fetch`.
   */
  fetch?: FetchLike;
}

/**
 * Inputs of {@link entraId.client}.
 *
 * @example
 * ```ts
 * import { clientCredentials, entraId, type EntraIdClientOptions } from 'express-m2m';
 *
 * const options: EntraIdClientOptions = { tenant: 'contoso.onmicrosoft.com', clientId: 'c1f3...', clientSecret: process.env.SECRET ?? '', scope: 'api://billing/.default' };
 * const billing = clientCredentials(entraId.client(options));
 * ```
 */
export interface EntraIdClientOptions extends PresetClientCredentials {
  /** The tenant: its id (a GUID) or a verified domain (`contoso.onmicrosoft.com`). Required. */
  tenant: string;
  /** `<resource>/.default`: the API's App ID URI (or application id) followed by `/.default`. Required. */
  scope: string;
  /**
   * With `privateKey`: the certificate of that key, as uploaded to the app registration (PEM). Its
   * thumbprint goes into the assertion's `x5t#S256` and `x5t` headers, which Entra requires to
   * find the certificate.
   */
  certificate?: string;
  /** The sign-in authority. Default `https://login.microsoftonline.com`. */
  loginBaseURL?: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const GRAPH = ['00000003-0000-0000-c000-000000000000', 'https://graph.microsoft.com', 'https://graph.microsoft.com/'];
const NAMES: KnownOptions<EntraIdOptions> = {
  tenant: true, anyTenant: true, audience: true, version: true, clients: true, loginBaseURL: true, stsBaseURL: true, fetch: true,
};
const CLIENT_NAMES: KnownOptions<EntraIdClientOptions> = {
  tenant: true, scope: true, certificate: true, loginBaseURL: true,
  clientId: true, clientSecret: true, privateKey: true, privateKeyKid: true, privateKeyAlg: true,
};

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `requireAuth` options for the access tokens of Microsoft Entra ID: the issuer of the tenant (or
 * tenants) you allow, that tenant's keys, the token version your app registration issues, and
 * `aud`. A v1.0 token sent to an API configured for v2.0 (or the reverse), a Microsoft Graph
 * token, or a token of a tenant not allowed are refused with a description naming the mistake.
 * Delegated scopes are read from `scp`; app permissions (client credentials) are in `roles`:
 * `requireRoles('Orders.Read')`. Spread the result to add any other option.
 *
 * @example
 * ```ts
 * import { entraId, requireAuth, requireRoles } from 'express-m2m';
 *
 * app.use(requireAuth(entraId({ tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47', audience: 'c1f3a3a8-0d5e-4c8e-9b8a-2b1b6c1f0a11' })));
 * app.get('/orders', requireRoles('Orders.Read'), handler);
 * ```
 */
export function entraId(options: EntraIdOptions): RequireAuthOptions {
  const read = presetReader<EntraIdOptions>(options, NAMES, 'entraId', 'requireAuth');
  const anyTenant = read.boolean('anyTenant', false);
  const tenants = readList(read, 'tenant')?.map((tenant) => tenant.toLowerCase());
  if (anyTenant && tenants !== undefined) read.failWith('give "tenant" or "anyTenant: true", not both');
  if (!anyTenant && tenants === undefined) {
    read.required('tenant', 'the tenant id whose tokens are accepted; a list for a multi-tenant API, or "anyTenant: true" to accept every tenant');
  }
  for (const tenant of tenants ?? []) {
    if (!GUID.test(tenant)) {
      read.fail('tenant', `must be tenant ids (GUIDs): tokens name their tenant by id, never by domain or by "common"/"organizations"${
        ['common', 'organizations', 'consumers'].includes(tenant) ? ' (to accept every tenant, pass "anyTenant: true")' : ''}`);
    }
  }
  const audience = readList(read, 'audience', "the API's application (client) id and/or App ID URI") as string[];
  const version = read.oneOf('version', ['2.0', '1.0', 'both'], '2.0');
  const clients = readList(read, 'clients');
  const login = readUrl(read, 'loginBaseURL', 'https://login.microsoftonline.com');
  const sts = readUrl(read, 'stsBaseURL', 'https://sts.windows.net');
  const accepted: readonly EntraTokenVersion[] = version === 'both' ? ['1.0', '2.0'] : [version];
  // The issuer templates of Entra's discovery documents, per version.
  const templates: Record<EntraTokenVersion, string> = { '2.0': `${login}/{tenantid}/v2.0`, '1.0': `${sts}/{tenantid}/` };
  const forms = (Object.entries(templates) as [EntraTokenVersion, string][]).map(([ver, template]) => ({
    ver,
    pattern: new RegExp(`^${escape(template).replace(escape('{tenantid}'), '([0-9a-f-]{36})')}$`),
  }));

  const fetch = read.func<FetchLike>('fetch', 'a function with the signature of fetch');
  // Every tenant's tokens are signed with Entra's common keys: with any tenant, one source serves
  // them all (its view has no close: a tenant's verifier leaving the cache must not close it).
  // Each key names the issuer it signs for (its JWK `issuer`, `<login>/{tenantid}/v2.0` for the
  // common keys): a tenant's view asks for keys of that tenant's issuer only, in its v2.0 form for
  // v1.0 tokens too (the keys' issuers are v2.0 ones), so a key published for one tenant never
  // verifies another tenant's tokens.
  let common: KeySource | undefined;
  const commonKeys = (tenant: string): KeySource => {
    common ??= createKeySource({ jwksUri: `${login}/common/discovery/v2.0/keys`, ...(fetch === undefined ? {} : { fetch }) });
    const source = common;
    const issuer = templates['2.0'].replace('{tenantid}', tenant);
    return {
      get algorithms() { return source.algorithms; },
      get generation() { return source.generation; },
      get freshUntil() { return source.freshUntil; },
      getKey: (selector, now) => source.getKey({ ...selector, issuer }, now),
      warmUp: () => source.warmUp(),
    };
  };

  const issuers = ({ issuer }: { issuer: string }): IssuerOptions | undefined => {
    for (const form of forms) {
      const tenant = form.pattern.exec(issuer)?.[1];
      if (tenant === undefined || !GUID.test(tenant)) continue;
      if (anyTenant) return { issuer, keySource: commonKeys(tenant) };
      if (!(tenants as string[]).includes(tenant)) return undefined;
      // The tenant's own keys; a token of the wrong version is refused (by `ver`) once its signature verified.
      return { issuer, jwksUri: `${login}/${tenant}/discovery/v2.0/keys` };
    }
    return undefined;
  };

  const versionAdvice = (ver: unknown): string => (ver === '1.0'
    ? 'this is an Entra ID v1.0 access token (issuer https://sts.windows.net/...) and this API accepts v2.0 tokens: set "accessTokenAcceptedVersion": 2 in the manifest of the API\'s app registration (the API decides the version, not the client), or accept v1.0 with version: \'1.0\''
    : ver === '2.0'
      ? 'this is an Entra ID v2.0 access token and this API accepts v1.0 tokens: accept v2.0 with version: \'2.0\' (or \'both\')'
      : "the token has no Entra ID token version ('ver' claim): is it an access token?");
  const claims: NonNullable<RequireAuthOptions['claims']> = {
    ver: (ver, payload) => accepted.includes(ver as EntraTokenVersion) || refuse(payload, 'ver', codeFor('ver', ver), versionAdvice(ver), accepted.join(' ')),
    // The issuer must be the template filled in with the token's own tenant.
    tid: (tid, payload) => {
      const ver = payload.ver as EntraTokenVersion;
      if (typeof tid === 'string' && payload.iss === templates[ver]?.replace('{tenantid}', tid)) return true;
      return refuse(payload, 'tid', codeFor('tid', tid), "the token's issuer is not the one of its tenant ('tid' claim)");
    },
    aud: (aud, payload) => {
      if (holdsOneOf(aud, audience)) return true;
      const why = aud === undefined
        ? 'the token has no audience'
        : holdsOneOf(aud, GRAPH)
          ? "the token is for Microsoft Graph, not this API: request it with scope '<this API's App ID URI>/.default' (or a scope this API exposes)"
          : "the token is for another API: request it with scope '<this API's App ID URI>/.default'; v2.0 tokens carry the API's application id in 'aud', v1.0 tokens its App ID URI: list both in \"audience\"";
      return refuse(payload, 'aud', codeFor('aud', aud), why, audience.join(' '));
    },
    ...(clients === undefined ? {} : {
      azp: (azp: unknown, payload) => {
        const client = payload.ver === '1.0' ? payload.appid : azp;
        if (typeof client === 'string' && clients.includes(client)) return true;
        return refuse(payload, payload.ver === '1.0' ? 'appid' : 'azp', codeFor('azp', client),
          "the token was issued to a client that is not allowed here ('azp' in v2.0 tokens, 'appid' in v1.0): add its application id to \"clients\"", clients.join(' '));
      },
    }),
  };
  return { issuers, claims, scopeClaim: 'scp', ...(fetch === undefined ? {} : { fetch }) };
}

/**
 * `clientCredentials` options for Microsoft Entra ID: the tenant's v2.0 token endpoint
 * (`https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token`), `scope=<resource>/.default`
 * (the app permissions granted to the client for that API), and a client secret
 * (`client_secret_post`) or a certificate (`private_key_jwt` with the `x5t#S256` and `x5t`
 * headers Entra uses to find it).
 *
 * @example
 * ```ts
 * import { clientCredentials, entraId } from 'express-m2m';
 *
 * const billing = clientCredentials(entraId.client({
 *   tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47', clientId: 'c1f3a3a8-0d5e-4c8e-9b8a-2b1b6c1f0a11',
 *   clientSecret: process.env.BILLING_SECRET ?? '', scope: 'api://billing/.default',
 * }));
 * ```
 */
entraId.client = function entraIdClient(options: EntraIdClientOptions): ClientCredentialsOptions {
  const read = presetReader<EntraIdClientOptions>(options, CLIENT_NAMES, 'entraId.client', 'clientCredentials');
  const tenant = read.string('tenant') ?? read.required('tenant', 'the tenant id or a verified domain, like contoso.onmicrosoft.com');
  if (!/^[a-z0-9.-]+$/i.test(tenant)) read.fail('tenant', 'must be a tenant id (a GUID) or a domain name');
  const scope = read.string('scope') ?? read.required('scope', "'<resource>/.default', e.g. 'api://billing/.default'");
  if (!scope.endsWith('/.default') || scope.includes(' ')) {
    read.fail('scope', "must be one '<resource>/.default', e.g. 'api://billing/.default': with client credentials Entra grants the app permissions of one resource, never single scopes");
  }
  const login = readUrl(read, 'loginBaseURL', 'https://login.microsoftonline.com');
  const credentials = readClientCredentials(read, 'client_secret_post');
  const certificate = read.string('certificate');
  if (certificate !== undefined && credentials.privateKey === undefined) read.fail('certificate', 'goes with "privateKey" (the certificate of that key)');
  if (credentials.privateKey !== undefined && certificate === undefined) {
    read.required('certificate', 'Entra finds the certificate of a client assertion by its thumbprint (x5t#S256 header)');
  }
  return {
    tokenEndpoint: `${login}/${tenant}/oauth2/v2.0/token`,
    ...credentials,
    ...(certificate === undefined ? {} : { privateKeyCertificate: certificate }),
    scope,
  };
};
