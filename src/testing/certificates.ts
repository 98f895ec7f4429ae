/**
 * Throwaway X.509 certificates for tests: a certificate authority, server and client
 * certificates it signs, and self-signed client certificates. Pure `node:crypto` (EC P-256,
 * ECDSA with SHA-256) and a small DER encoder: no `openssl` binary (absent on Windows by
 * default), no package, nothing fetched. The certificates are meant for loopback tests only.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * A certificate and its private key, in PEM.
 *
 * @example
 * ```ts
 * import https from 'node:https';
 * import { createTestCertificateAuthority, type TestCertificate } from 'express-m2m/testing';
 *
 * const ca = createTestCertificateAuthority();
 * const server: TestCertificate = ca.issue({ usage: ['server'] });
 * https.createServer({ key: server.key, cert: server.cert, ca: ca.cert, requestCert: true, rejectUnauthorized: false }, app);
 * ```
 */
export interface TestCertificate {
  /** The certificate, PEM. */
  readonly cert: string;
  /** Its private key, PKCS#8 PEM (unencrypted). */
  readonly key: string;
  /** The DER of the certificate. */
  readonly der: Uint8Array;
  /** `x5t#S256`: base64url of the SHA-256 of the DER (RFC 8705 section 3.1), the `cnf` of a token bound to it. */
  readonly thumbprint: string;
  /** The subject distinguished name as given, e.g. `CN=orders,O=Example` (RFC 4514 order). */
  readonly subject: string;
}

/**
 * A throwaway certificate authority: its own certificate (trust it with `ca`) and the
 * certificates it issues.
 *
 * @example
 * ```ts
 * import { createTestCertificateAuthority } from 'express-m2m/testing';
 *
 * const ca = createTestCertificateAuthority();
 * const client = ca.issue({ subject: 'CN=orders', usage: ['client'] });
 * console.log(client.thumbprint); // the cnf x5t#S256 of tokens bound to it
 * ```
 */
export interface TestCertificateAuthority extends TestCertificate {
  /** Issues a certificate signed by this authority. */
  issue(options?: TestCertificateOptions): TestCertificate;
}

/**
 * What a test certificate says.
 *
 * @example
 * ```ts
 * import { createTestCertificateAuthority, type TestCertificateOptions } from 'express-m2m/testing';
 *
 * const options: TestCertificateOptions = { subject: 'CN=billing,O=Example', dnsNames: ['billing.internal'], usage: ['client'] };
 * const certificate = createTestCertificateAuthority().issue(options);
 * ```
 */
export interface TestCertificateOptions {
  /** Subject DN, RFC 4514 order (most specific first), attributes CN, O, OU, L, ST, C. Default `CN=localhost`. */
  subject?: string;
  /** DNS names of the subjectAltName. Default for a server certificate without any other name: `localhost`. */
  dnsNames?: readonly string[];
  /** IP addresses of the subjectAltName. Default for a server certificate without any other name: `127.0.0.1` and `::1`. */
  ipAddresses?: readonly string[];
  /** URIs of the subjectAltName (e.g. SPIFFE IDs). Default none. */
  uris?: readonly string[];
  /** E-mail addresses of the subjectAltName. Default none. */
  emails?: readonly string[];
  /** Extended key usages. Default `['server', 'client']`. */
  usage?: ReadonlyArray<'server' | 'client'>;
  /** Days the certificate is valid, from an hour ago. Default 1. */
  validityDays?: number;
}

// --- DER ---------------------------------------------------------------------------------------

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const sequence = (...items: Buffer[]): Buffer => tlv(0x30, ...items);
const set = (...items: Buffer[]): Buffer => tlv(0x31, ...items);
const octets = (content: Buffer): Buffer => tlv(0x04, content);
const bits = (content: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.from([unused]), content);
const TRUE = tlv(0x01, Buffer.from([0xff]));

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) chunk.unshift(0x80 | (value & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  // RFC 5280 section 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

const ATTRIBUTES: Readonly<Record<string, string>> = { CN: '2.5.4.3', O: '2.5.4.10', OU: '2.5.4.11', L: '2.5.4.7', ST: '2.5.4.8', C: '2.5.4.6' };

/** A Name from an RFC 4514 string (most specific first: its RDNs are encoded in reverse). */
function name(dn: string): Buffer {
  const rdns = dn.split(',').map((part) => part.trim()).filter((part) => part !== '').map((part) => {
    const at = part.indexOf('=');
    const type = ATTRIBUTES[part.slice(0, at).trim().toUpperCase()];
    if (at < 1 || type === undefined) throw new TypeError(`test certificate: unsupported subject attribute ${JSON.stringify(part.slice(0, 40))} (CN, O, OU, L, ST, C)`);
    const value = Buffer.from(part.slice(at + 1).trim(), 'utf8');
    // countryName is a PrintableString (RFC 5280 appendix A); the others UTF8String.
    return set(sequence(oid(type), tlv(type === '2.5.4.6' ? 0x13 : 0x0c, value)));
  });
  return sequence(...rdns.reverse());
}

function ipBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number));
  const [head = '', tail = ''] = address.split('::');
  const groups = (text: string): string[] => (text === '' ? [] : text.split(':'));
  const left = groups(head);
  const right = address.includes('::') ? groups(tail) : [];
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return Buffer.concat(all.map((group) => Buffer.from(group.padStart(4, '0'), 'hex')));
}

function extension(id: string, value: Buffer, critical = false): Buffer {
  return sequence(oid(id), ...(critical ? [TRUE] : []), octets(value));
}

// --- certificates ------------------------------------------------------------------------------

interface Issuer {
  subject: string;
  privateKey: KeyObject;
  keyId: Buffer;
}

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));

function keyPair(): { privateKey: KeyObject; spki: Buffer; pem: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return { privateKey, spki, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** A key identifier (RFC 5280 section 4.2.1.2 allows any unique value): the SHA-1 of the SubjectPublicKeyInfo. */
function keyIdentifier(spki: Buffer): Buffer {
  return createHash('sha1').update(spki).digest();
}

function build(options: TestCertificateOptions, isCa: boolean, issuer: Issuer | 'self'): TestCertificate & { privateKey: KeyObject; keyId: Buffer } {
  const subject = options.subject ?? (isCa ? 'CN=express-m2m test CA' : 'CN=localhost');
  const { privateKey, spki, pem } = keyPair();
  const keyId = keyIdentifier(spki);
  const signer: Issuer = issuer === 'self' ? { subject, privateKey, keyId } : issuer;
  const days = options.validityDays ?? 1;
  if (!(typeof days === 'number' && days > 0 && days <= 3650)) throw new TypeError('test certificate: "validityDays" must be a number of days from 1 to 3650');
  const notBefore = new Date(Date.now() - 3_600_000);
  const notAfter = new Date(notBefore.getTime() + days * 86_400_000);
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01; // positive, no leading zero byte

  const extensions: Buffer[] = [
    extension('2.5.29.19', isCa ? sequence(TRUE) : sequence(), true),
    // keyUsage: keyCertSign + cRLSign for a CA, digitalSignature for a leaf.
    extension('2.5.29.15', isCa ? bits(Buffer.from([0x06]), 1) : bits(Buffer.from([0x80]), 7), true),
    extension('2.5.29.14', octets(keyId)),
    extension('2.5.29.35', sequence(tlv(0x80, signer.keyId))),
  ];
  if (!isCa) {
    const usage = options.usage ?? ['server', 'client'];
    extensions.push(extension('2.5.29.37', sequence(...usage.map((item) => oid(item === 'server' ? '1.3.6.1.5.5.7.3.1' : '1.3.6.1.5.5.7.3.2')))));
    const named = [options.dnsNames, options.ipAddresses, options.uris, options.emails].some((list) => list !== undefined && list.length > 0);
    const dnsNames = options.dnsNames ?? (!named && usage.includes('server') ? ['localhost'] : []);
    const ipAddresses = options.ipAddresses ?? (!named && usage.includes('server') ? ['127.0.0.1', '::1'] : []);
    const names = [
      ...(options.emails ?? []).map((email) => tlv(0x81, Buffer.from(email, 'ascii'))),
      ...dnsNames.map((dns) => tlv(0x82, Buffer.from(dns, 'ascii'))),
      ...(options.uris ?? []).map((uri) => tlv(0x86, Buffer.from(uri, 'ascii'))),
      ...ipAddresses.map((address) => {
        if (isIP(address) === 0) throw new TypeError(`test certificate: ${JSON.stringify(address.slice(0, 60))} is not an IP address`);
        return tlv(0x87, ipBytes(address));
      }),
    ];
    if (names.length > 0) extensions.push(extension('2.5.29.17', sequence(...names)));
  }
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, serial),
    ECDSA_WITH_SHA256,
    name(signer.subject),
    sequence(time(notBefore), time(notAfter)),
    name(subject),
    spki,
    tlv(0xa3, sequence(...extensions)),
  );
  const der = sequence(tbs, ECDSA_WITH_SHA256, bits(sign('sha256', tbs, signer.privateKey)));
  const cert = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  // Parsed back once: a certificate Node cannot read is a bug here, not in the test using it.
  new X509Certificate(der);
  return {
    cert, key: pem, der: new Uint8Array(der), thumbprint: createHash('sha256').update(der).digest('base64url'), subject, privateKey, keyId,
  };
}

function publicPart(certificate: TestCertificate): TestCertificate {
  const { cert, key, der, thumbprint, subject } = certificate;
  return Object.freeze({ cert, key, der, thumbprint, subject });
}

/**
 * Creates a throwaway certificate authority (EC P-256, valid 1 day by default) whose `issue()`
 * makes server and client certificates.
 *
 * @example
 * ```ts
 * import { createTestCertificateAuthority } from 'express-m2m/testing';
 *
 * const ca = createTestCertificateAuthority();
 * const server = ca.issue({ usage: ['server'] }); // localhost, 127.0.0.1, ::1
 * const client = ca.issue({ subject: 'CN=orders', usage: ['client'] });
 * ```
 */
export function createTestCertificateAuthority(options: Pick<TestCertificateOptions, 'subject' | 'validityDays'> = {}): TestCertificateAuthority {
  const authority = build(options, true, 'self');
  const issuer: Issuer = { subject: authority.subject, privateKey: authority.privateKey, keyId: authority.keyId };
  return Object.freeze({ ...publicPart(authority), issue: (issued: TestCertificateOptions = {}) => publicPart(build(issued, false, issuer)) });
}

/**
 * Creates a self-signed certificate, e.g. for `self_signed_tls_client_auth` (RFC 8705 section 2.2).
 *
 * @example
 * ```ts
 * import { createSelfSignedCertificate } from 'express-m2m/testing';
 *
 * const client = createSelfSignedCertificate({ subject: 'CN=orders', usage: ['client'] });
 * const issuer = await createLocalIssuer({ tls: {} });
 * issuer.registerClient({ clientId: 'orders', audiences: ['https://api.example'], selfSignedTlsClientAuth: { certificates: [client.cert] } });
 * ```
 */
export function createSelfSignedCertificate(options: TestCertificateOptions = {}): TestCertificate {
  return publicPart(build(options, false, 'self'));
}
