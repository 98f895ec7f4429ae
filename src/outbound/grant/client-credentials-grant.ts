/**
 * The bottom of the outbound chain: one client-credentials token request (RFC 6749 section 4.4)
 * to the configured or discovered token endpoint, with the client's authentication, turned into
 * a token with its expiry. One attempt; retries are the layer above.
 */
import type { TokenSet } from '../../caches/token-cache.js';
import { MetadataDiscovery } from '../../discovery/metadata-discovery.js';
import { InsecureMetadataError } from '../../discovery/metadata.js';
import { mtlsTokenEndpoint } from '../../discovery/mtls-endpoint-aliases.js';
import { UpstreamError } from '../../transport/fetch-json.js';
import type { FetchLike } from '../../transport/fetch-like.js';
import type { ClientAuthenticator } from '../client-auth/client-authenticator.js';
import { TokenRequestError } from '../token-request-error.js';
import type { ObtainedToken, TokenSource } from '../token-source.js';
import { requestToken, type TokenResponse } from './token-endpoint-request.js';
import type { TokenRequestBinding } from './token-request-binding.js';
import { isUsable, tokenExpiry } from './token-lifetime.js';

/** Where the token endpoint is: configured, or named by the issuer's metadata. */
export type TokenEndpointLocation = { tokenEndpoint: string } | { discovery: MetadataDiscovery };

export interface GrantSettings {
  location: TokenEndpointLocation;
  authenticate: ClientAuthenticator;
  /** The grant's body parameters (grant_type, audience, scope, resource, extra parameters). */
  params: Readonly<Record<string, string | string[]>>;
  bodyFormat: 'form' | 'json';
  timeoutDuration: number;
  defaultLifetime: number;
  expiryMargin: number;
  /** The `token_type`s the presenter can use. */
  tokenTypes: readonly string[];
  fetch: FetchLike;
  now: () => number;
  /** Aborted when the provider closes. */
  closeSignal: AbortSignal;
  /** The client uses mutual TLS: a discovered `mtls_endpoint_aliases.token_endpoint` is preferred (RFC 8705 section 5). */
  mtlsEndpointAliases?: boolean;
  /** A sender constraint of the token request (DPoP), if any. */
  binding?: TokenRequestBinding | undefined;
}

export class ClientCredentialsGrant implements TokenSource {
  constructor(private readonly settings: GrantSettings) {}

  async obtain(): Promise<ObtainedToken> {
    const { settings } = this;
    const tokenEndpoint = await this.resolveTokenEndpoint();
    const { response, attempts } = await this.request(tokenEndpoint);
    const obtainedAt = settings.now();
    const expiresAt = tokenExpiry(response, obtainedAt, settings.defaultLifetime);
    const token: TokenSet = { accessToken: response.accessToken, tokenType: response.tokenType, expiresAt, obtainedAt };
    if (response.scope !== undefined) token.scope = response.scope;
    if (!isUsable(token, obtainedAt, settings.expiryMargin)) {
      throw new TokenRequestError(`token endpoint ${tokenEndpoint} issued a token that is already expired (check the clocks)`, {
        code: 'ERR_TOKEN_RESPONSE_INVALID',
        tokenEndpoint,
      });
    }
    return { token, attempts };
  }

  /** The token request; with a binding that asks for it (`use_dpop_nonce`), once more. */
  private async request(tokenEndpoint: string): Promise<{ response: TokenResponse; attempts: number }> {
    const { settings } = this;
    const { binding } = settings;
    for (let attempts = 1; ; attempts += 1) {
      const authentication = await settings.authenticate(tokenEndpoint);
      try {
        const response = await requestToken({
          tokenEndpoint,
          params: { ...settings.params, ...authentication.params },
          headers: binding === undefined ? authentication.headers : { ...authentication.headers, ...binding.headers(tokenEndpoint) },
          bodyFormat: settings.bodyFormat,
          timeoutDuration: settings.timeoutDuration,
          now: settings.now,
          closeSignal: settings.closeSignal,
          fetch: settings.fetch,
          tokenTypes: settings.tokenTypes,
          onResponse: binding === undefined ? undefined : (answer) => binding.observe(tokenEndpoint, answer),
        });
        binding?.accept(response, tokenEndpoint);
        return { response, attempts };
      } catch (error) {
        if (attempts === 1 && binding !== undefined && error instanceof TokenRequestError && binding.retry(error)) continue;
        throw error;
      }
    }
  }

  private async resolveTokenEndpoint(): Promise<string> {
    const { location } = this.settings;
    if ('tokenEndpoint' in location) return location.tokenEndpoint;
    const { discovery } = location;
    try {
      const metadata = await discovery.get();
      const alias = this.settings.mtlsEndpointAliases === true ? mtlsTokenEndpoint(metadata) : undefined;
      if (alias !== undefined) return alias;
      if (typeof metadata.token_endpoint !== 'string') {
        throw new TokenRequestError(`issuer ${discovery.issuerBaseURL} names no "token_endpoint" in its metadata`, {
          code: 'ERR_TOKEN_DISCOVERY_FAILED',
          tokenEndpoint: discovery.issuerBaseURL,
        });
      }
      return metadata.token_endpoint;
    } catch (error) {
      if (error instanceof TokenRequestError) throw error;
      // Discovery refuses endpoints that are not http(s) or downgrade an https issuer to http.
      if (error instanceof InsecureMetadataError) {
        throw new TokenRequestError(`issuer ${discovery.issuerBaseURL}: ${error.message}`, {
          code: 'ERR_TOKEN_ENDPOINT_INSECURE',
          tokenEndpoint: discovery.issuerBaseURL,
          cause: error,
        });
      }
      throw new TokenRequestError(`discovery of ${discovery.issuerBaseURL} failed: ${error instanceof Error ? error.message : String(error)}`, {
        code: 'ERR_TOKEN_DISCOVERY_FAILED',
        status: error instanceof UpstreamError ? error.status : undefined,
        tokenEndpoint: discovery.issuerBaseURL,
        cause: error,
      });
    }
  }
}
