/**
 * The example's optional mTLS mode (`DOWNSTREAM_MTLS=true`, embedded issuer only): the embedded
 * issuer serves https with mutual TLS, the downstream service requires certificate-bound tokens
 * (RFC 8705) over https, and the API calls it with a client certificate: `tls_client_auth` at the
 * issuer's mTLS endpoint, and the bound token presented over the same certificate.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import type { FetchLike } from 'express-m2m';
import type { LocalIssuer, TestCertificate } from 'express-m2m/testing';

/** The subject of the API's client certificate, registered with the issuer for tls_client_auth. */
export const API_CERTIFICATE_SUBJECT = 'CN=example-api';

/** What the mTLS mode is made of. */
export interface ExampleMtls {
  /** The embedded issuer's CA (PEM), written to a file for `curl --cacert` and `NODE_EXTRA_CA_CERTS`. */
  caFile: string;
  /** A fetch that trusts that CA: the API's and the downstream's discovery and JWKS calls. */
  trustingFetch: FetchLike;
  /** The API's client certificate. */
  client: TestCertificate;
  /** The downstream's server certificate. */
  server: TestCertificate;
  /** Closes the agent and removes the CA file. */
  close(): Promise<void>;
}

/** The certificates of the mTLS mode, from the issuer's throwaway CA (the issuer was created with `tls`). */
export function exampleMtls(issuer: LocalIssuer): ExampleMtls {
  const tls = issuer.tls;
  if (tls?.authority === undefined) throw new Error('the embedded issuer has no TLS authority');
  const dir = mkdtempSync(join(tmpdir(), 'express-m2m-example-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, tls.ca);
  const agent = new Agent({ connect: { ca: tls.ca } });
  return {
    caFile,
    trustingFetch: (input, init) => fetch(input as string, { ...init, dispatcher: agent } as never) as unknown as Promise<Response>,
    client: tls.issueClientCertificate({ subject: API_CERTIFICATE_SUBJECT }),
    server: tls.authority.issue({ usage: ['server'] }),
    async close() {
      await agent.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
