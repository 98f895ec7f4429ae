/**
 * Internal: what the JWT verifier takes from discovery (the expected `iss` and the `jwks_uri`),
 * with a failure turned into the 503 a request gets and reported once per failed fetch.
 */
import { MetadataDiscovery, type DiscoveryOptions } from '../../../discovery/metadata-discovery.js';
import type { AuthorizationServerMetadata } from '../../../discovery/metadata.js';
import { KeySourceUnavailableError } from '../../../errors/bearer-errors.js';
import { UpstreamError } from '../../../transport/fetch-json.js';
import type { VerifierEvent } from './types.js';

export class IssuerDiscovery {
  private readonly discovery: MetadataDiscovery;
  /** The failure last reported: discovery hands the same error to every caller until it fetches again. */
  private reported: unknown;

  constructor(
    private readonly issuerBaseURL: string,
    settings: DiscoveryOptions,
    private readonly emit: (event: VerifierEvent) => void,
  ) {
    this.discovery = new MetadataDiscovery(issuerBaseURL, settings);
  }

  /** The metadata; rejects with `KeySourceUnavailableError` (503, `Retry-After` = until the next attempt). */
  async metadata(): Promise<AuthorizationServerMetadata> {
    try {
      return await this.discovery.get();
    } catch (error) {
      const cause = error instanceof Error ? error : new Error(String(error));
      if (error !== this.reported) {
        this.reported = error;
        this.emit({ type: 'verification.discovery_failed', issuerBaseURL: this.issuerBaseURL, error: cause });
      }
      throw new KeySourceUnavailableError('the token issuer\'s metadata is temporarily unavailable', this.retryAfterSeconds(), { cause });
    }
  }

  /** The discovered `jwks_uri` (the key source's lazily resolved URL). */
  async jwksUri(): Promise<string> {
    const metadata = await this.metadata();
    if (metadata.jwks_uri === undefined) throw new UpstreamError(`the metadata of ${this.issuerBaseURL} has no "jwks_uri"`);
    return metadata.jwks_uri;
  }

  /** Whole seconds until discovery will be tried again (at least 1). */
  private retryAfterSeconds(): number {
    const retryIn = this.discovery.retryIn();
    return retryIn === undefined ? 1 : Math.max(1, Math.ceil(retryIn / 1000));
  }
}
