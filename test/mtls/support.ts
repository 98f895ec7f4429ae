/**
 * mTLS test support: throwaway certificates (made at test time by express-m2m/testing's pure-JS
 * generator, cross-checked against openssl in certificates.test.ts), an https server that asks
 * for client certificates, and an undici client that presents one.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import { Agent, fetch as undiciFetch } from 'undici';
import type { FetchLike } from 'express-m2m';
import { createTestCertificateAuthority, type TestCertificate, type TestCertificateAuthority } from 'express-m2m/testing';

export interface Pki {
  ca: TestCertificateAuthority;
  server: TestCertificate;
  client: TestCertificate;
  other: TestCertificate;
}

export function makePki(): Pki {
  const ca = createTestCertificateAuthority();
  return {
    ca,
    server: ca.issue({ usage: ['server'] }),
    client: ca.issue({ subject: 'CN=orders,O=Example', usage: ['client'] }),
    other: ca.issue({ subject: 'CN=intruder', usage: ['client'] }),
  };
}

/** An https server on 127.0.0.1 that asks for (and does not require) a client certificate. */
export async function listenTls(pki: Pki, handler: RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer({ key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: false }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A client of that server: presents `certificate` when given. Call `close()` when done. */
export function tlsClient(pki: Pki, certificate?: TestCertificate) {
  const agent = new Agent({ connect: { ca: pki.ca.cert, ...(certificate === undefined ? {} : { cert: certificate.cert, key: certificate.key }) } });
  return {
    get: async (url: string, headers: Record<string, string> = {}) => {
      const response = await undiciFetch(url, { headers, dispatcher: agent });
      const text = await response.text();
      return { status: response.status, challenge: response.headers.get('www-authenticate') ?? '', body: text === '' ? undefined : JSON.parse(text) as Record<string, unknown> };
    },
    close: () => agent.close(),
  };
}

/** RFC 9440 Client-Cert value of a certificate. */
export function clientCertHeader(certificate: TestCertificate): string {
  return `:${Buffer.from(certificate.der).toString('base64')}:`;
}

/** nginx $ssl_client_escaped_cert of a certificate. */
export function escapedPem(certificate: TestCertificate): string {
  return encodeURIComponent(certificate.cert);
}

/** A fetch that trusts `ca` (an API's own JWKS and discovery calls to an https issuer). */
export function trusting(ca: string): FetchLike {
  const agent = new Agent({ connect: { ca } });
  return (input, init) => undiciFetch(input as string, { ...(init as object), dispatcher: agent } as never) as unknown as Promise<Response>;
}
