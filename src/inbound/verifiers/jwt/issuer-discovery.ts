/**
 * Internal: what the JWT verifier takes from discovery (the expected `iss` and the `jwks_uri`).
 * A failure is reported once per failed fetch, with the URL tried and the cause (and whether it
 * is a configuration error: a 404, a host name that does not resolve, another issuer's
 * metadata); a request gets the 503 with `Retry-After`, whose description says nothing internal.
 */
import { MetadataDiscovery, type DiscoveryOptions } from '../../../discovery/metadata-discovery.js';
import type { AuthorizationServerMetadata } from '../../../discovery/metadata.js';
import { KeySourceUnavailableError } from '../../../errors/bearer-errors.js';
import { UpstreamError } from '../../../transport/fetch-json.js';
import type { VerifierEvent } from './types.js';

export class IssuerDiscovery {
  private readonly discovery: MetadataDiscovery;
  /** The failure last reported: discovery hands the same error to every caller until it fetches again. */
  private reported: { error: unknown; detailed: UpstreamError } | undefined;

  constructor(
    private readonly issuerBaseURL: string,
    settings: DiscoveryOptions,
    private readonly emit: (event: VerifierEvent) => void,
  ) {
    this.discovery = new MetadataDiscovery(issuerBaseURL, settings);
  }

  /** The metadata, for a request: rejects with `KeySourceUnavailableError` (503, `Retry-After` = until the next attempt). */
  async metadata(): Promise<AuthorizationServerMetadata> {
    try {
      return await this.discovery.get();
    } catch (error) {
      throw new KeySourceUnavailableError('the token issuer\'s metadata is temporarily unavailable', this.retryAfterSeconds(), {
        cause: this.failed(error),
      });
    }
  }

  /**
   * The metadata, for a warm-up at start-up: rejects with a `KeySourceUnavailableError` whose
   * message is the detailed one (the URL tried, the cause; never sent to a client).
   */
  async metadataForWarmUp(): Promise<AuthorizationServerMetadata> {
    try {
      return await this.discovery.get();
    } catch (error) {
      const detailed = this.failed(error);
      throw new KeySourceUnavailableError(detailed.message, this.retryAfterSeconds(), { cause: detailed });
    }
  }

  /** The discovered `jwks_uri` (the key source's lazily resolved URL). */
  async jwksUri(): Promise<string> {
    const metadata = await this.metadata();
    if (metadata.jwks_uri === undefined) throw new UpstreamError(`the metadata of ${this.issuerBaseURL} has no "jwks_uri"`, undefined, undefined, true);
    return metadata.jwks_uri;
  }

  /** The detailed error of a failed discovery, reported once per failed fetch. */
  private failed(error: unknown): UpstreamError {
    const reported = this.reported;
    if (reported !== undefined && reported.error === error) return reported.detailed;
    const upstream = error instanceof UpstreamError ? error : undefined;
    const configuration = upstream?.configuration === true;
    const hint = configuration ? '; check "issuerBaseURL" (a configuration error, not an outage)' : '';
    const detailed = new UpstreamError(
      `discovery of ${this.issuerBaseURL} failed: ${error instanceof Error ? error.message : String(error)}${hint}`,
      upstream?.status,
      error,
      configuration,
    );
    this.reported = { error, detailed };
    this.emit({ type: 'verification.discovery_failed', issuerBaseURL: this.issuerBaseURL, error: detailed });
    return detailed;
  }

  /** Whole seconds until discovery will be tried again (at least 1). */
  private retryAfterSeconds(): number {
    const retryIn = this.discovery.retryIn();
    return retryIn === undefined ? 1 : Math.max(1, Math.ceil(retryIn / 1000));
  }
}
