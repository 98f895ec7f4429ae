/**
 * RFC 9728 section 2 (`tls_client_certificate_bound_access_tokens`) from requireAuth's mTLS
 * mode, and the test certificates of express-m2m/testing, checked by an independent
 * implementation (the openssl binary) and by Node's TLS.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProtectedResourceMetadata, protectedResourceMetadata, requireAuth } from 'express-m2m';
import { createSelfSignedCertificate, createTestCertificateAuthority } from 'express-m2m/testing';

describe('RFC 9728 section 2: tls_client_certificate_bound_access_tokens', () => {
  const base = { issuer: 'https://issuer.example', jwksUri: 'https://issuer.example/jwks', audience: 'https://api.example' };

  test("true when requireAuth's mtls.mode is 'required'; absent when bound tokens are only allowed, or without mtls", () => {
    const of = (mtls?: object) => protectedResourceMetadata({ resource: 'https://api.example', auth: requireAuth({ ...base, ...(mtls === undefined ? {} : { mtls }) } as never) }).document;
    expect(of({ mode: 'required', certificate: 'tls' }).tls_client_certificate_bound_access_tokens).toBe(true);
    expect(of({ certificate: 'tls' })).not.toHaveProperty('tls_client_certificate_bound_access_tokens');
    expect(of()).not.toHaveProperty('tls_client_certificate_bound_access_tokens');
  });

  test('the option says it explicitly, and must be a boolean', () => {
    const options = { resource: 'https://api.example', authorizationServers: ['https://issuer.example'] };
    expect(createProtectedResourceMetadata({ ...options, tlsClientCertificateBoundAccessTokens: true }).document.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(() => createProtectedResourceMetadata({ ...options, tlsClientCertificateBoundAccessTokens: 'yes' as never }))
      .toThrow('"tlsClientCertificateBoundAccessTokens" must be a boolean');
  });
});

describe('express-m2m/testing certificates: valid X.509 that openssl verifies', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'express-m2m-mtls-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  test('a CA, and server and client certificates it issues: openssl verify accepts them for their purpose', () => {
    const ca = createTestCertificateAuthority();
    const server = ca.issue({ usage: ['server'] });
    const client = ca.issue({ subject: 'CN=orders,O=Example', usage: ['client'], uris: ['spiffe://mesh/orders'], emails: ['orders@example.com'] });
    const caFile = file('ca.pem', ca.cert);
    expect(openssl('verify', '-purpose', 'sslserver', '-CAfile', caFile, file('server.pem', server.cert))).toContain(': OK');
    expect(openssl('verify', '-purpose', 'sslclient', '-CAfile', caFile, file('client.pem', client.cert))).toContain(': OK');
    expect(() => openssl('verify', '-purpose', 'sslserver', '-CAfile', caFile, file('client2.pem', client.cert))).toThrow();
    const text = openssl('x509', '-in', file('client3.pem', client.cert), '-noout', '-subject', '-ext', 'subjectAltName');
    expect(text).toContain('subject=O = Example, CN = orders');
    expect(text).toContain('URI:spiffe://mesh/orders');
    expect(text).toContain('email:orders@example.com');
    const x509 = new X509Certificate(server.cert);
    expect(x509.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(x509.checkPrivateKey(createPrivateKey(server.key))).toBe(true);
  });

  test('the thumbprint is base64url(SHA-256(DER)) (RFC 8705 section 3.1), the DER openssl reads', () => {
    const certificate = createSelfSignedCertificate({ subject: 'CN=self' });
    const der = execFileSync('openssl', ['x509', '-in', file('self.pem', certificate.cert), '-outform', 'DER']);
    expect(certificate.thumbprint).toBe(createHash('sha256').update(der).digest('base64url'));
    expect(openssl('x509', '-in', file('self2.pem', certificate.cert), '-noout', '-fingerprint', '-sha256').split('=')[1]?.replace(/[^0-9A-F]/g, ''))
      .toBe(Buffer.from(certificate.thumbprint, 'base64url').toString('hex').toUpperCase());
  });

  test('bad options throw a TypeError', () => {
    expect(() => createTestCertificateAuthority().issue({ subject: 'XX=1' })).toThrow(TypeError);
    expect(() => createTestCertificateAuthority().issue({ ipAddresses: ['not-an-ip'] })).toThrow(TypeError);
    expect(() => createTestCertificateAuthority({ validityDays: 0 })).toThrow(TypeError);
  });
});
