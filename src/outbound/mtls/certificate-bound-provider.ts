/**
 * A provider whose tokens are bound to its client certificate (RFC 8705 section 3): one chain of
 * the outbound layers per certificate. A token bound to one certificate is useless with another,
 * so each certificate has its own cache key (the identity plus `{ 'x5t#S256': thumbprint }`), its
 * own in-memory token and its own transport. When the certificate rotates (see
 * `client-certificate-transport.ts`), new calls go to a new chain; calls in flight finish on the
 * old one, which is closed (with its agent) once the last of them is done.
 */
import type { ResolvedClientCredentials } from '../client-credentials-options.js';
import { integrityKey } from '../shared/entry-integrity.js';
import { tokenCacheKey } from '../shared/token-cache-key.js';
import type { CertificateGeneration, ClientCertificateTransport } from '../../transport/client-certificate-transport.js';
import type { ClientCredentialsProvider } from '../types.js';

/** The settings of the chain of one certificate: its transport, its cache key and (for the mTLS methods) its integrity key. */
export function withCertificate(resolved: ResolvedClientCredentials, generation: CertificateGeneration): ResolvedClientCredentials {
  return {
    ...resolved,
    fetch: generation.fetch,
    key: tokenCacheKey({ ...resolved.identity, confirmation: { ...resolved.identity.confirmation, 'x5t#S256': generation.thumbprint } }),
    integrityKey: resolved.certificateAuthentication ? integrityKey(generation.privateKey) : resolved.integrityKey,
  };
}

interface Chain {
  readonly generation: CertificateGeneration;
  readonly provider: ClientCredentialsProvider;
  /** Calls in progress on this chain. */
  active: number;
  retired: boolean;
}

/** A provider over `transport` whose chain for each certificate is made by `build`. */
export function certificateBoundProvider(transport: ClientCertificateTransport, build: (generation: CertificateGeneration) => ClientCredentialsProvider): ClientCredentialsProvider {
  const chain = (generation: CertificateGeneration): Chain => ({ generation, provider: build(generation), active: 0, retired: false });
  const dispose = async (old: Chain): Promise<void> => {
    await old.provider.close();
    await old.generation.close();
  };
  let current = chain(transport.current);
  let closed = false;
  const retiring = new Set<Chain>();
  transport.onRotate((generation) => {
    if (closed) return;
    const old = current;
    current = chain(generation);
    old.retired = true;
    if (old.active === 0) void dispose(old);
    else retiring.add(old);
  });

  async function run<T>(call: (provider: ClientCredentialsProvider) => Promise<T>): Promise<T> {
    if (!closed) await transport.use(); // a rotation, if the files changed
    const used = current;
    used.active += 1;
    try {
      return await call(used.provider);
    } finally {
      used.active -= 1;
      if (used.retired && used.active === 0 && retiring.delete(used)) void dispose(used);
    }
  }

  return {
    // The DPoP key (if any) is the provider's, the same for every certificate's chain.
    ...(current.provider.dpop === undefined ? {} : { dpop: current.provider.dpop }),
    getToken: (options) => run((provider) => provider.getToken(options)),
    getTokenSet: (options) => run((provider) => provider.getTokenSet(options)),
    fetch: (input, init) => run((provider) => provider.fetch(input, init)),
    // The chain new calls go to: its token, its refreshes, its failures.
    health: () => current.provider.health(),
    async close() {
      closed = true;
      await Promise.all([current, ...retiring].map(dispose));
      retiring.clear();
    },
  };
}
