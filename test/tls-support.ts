/**
 * Certificates made at test time with the `openssl` binary (Debian's, on every machine of this
 * project): a throwaway CA and a server certificate it signs for the names given (SAN). Nothing is
 * fetched and nothing is kept: the files live in a temporary folder the caller removes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  /** The CA certificate (PEM): trust it, e.g. with `ca` or NODE_EXTRA_CA_CERTS. */
  ca: string;
  /** Path of the CA certificate file. */
  caFile: string;
  /** The server's key and certificate (PEM), for `https.createServer({ key, cert })`. */
  key: string;
  cert: string;
  /** Removes the files. */
  remove(): void;
}

export function makeCertificates(dnsNames: readonly string[]): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'express-m2m-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=express-m2m test CA', '-keyout', file('ca-key.pem'), '-out', file('ca.pem'));
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-subj', `/CN=${dnsNames[0] ?? 'localhost'}`, '-keyout', file('key.pem'), '-out', file('server.csr'));
  writeFileSync(file('ext.cnf'), `subjectAltName=${dnsNames.map((name) => `DNS:${name}`).join(',')}\nextendedKeyUsage=serverAuth\n`);
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca-key.pem'), '-CAcreateserial',
    '-days', '1', '-extfile', file('ext.cnf'), '-out', file('cert.pem'));
  return {
    ca: readFileSync(file('ca.pem'), 'utf8'),
    caFile: file('ca.pem'),
    key: readFileSync(file('key.pem'), 'utf8'),
    cert: readFileSync(file('cert.pem'), 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
