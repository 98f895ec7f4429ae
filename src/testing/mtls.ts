/**
 * Internal: mutual TLS of the local issuer (RFC 8705). With `tls`, the issuer serves https and
 * asks every connection for a client certificate (`requestCert`, not required). Its metadata
 * names an mTLS alias of the token endpoint (`mtls_endpoint_aliases.token_endpoint`, section 5),
 * `/mtls/oauth/token`: only there is the client certificate used, to authenticate clients
 * registered for `tls_client_auth` (section 2.1: a certificate of a trusted CA whose subject DN or
 * SAN is the registered one) or `self_signed_tls_client_auth` (2.2: the very certificate
 * registered, or one in the registered JWK Set's `x5c`), and to bind the tokens it issues
 * (`cnf["x5t#S256"]`, section 3), whatever the client authentication method. `/oauth/token` stays
 * the plain one.
 */
import { X509Certificate } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { certificateThumbprint } from '../inbound/certificates/certificate-thumbprint.js';
import { createTestCertificateAuthority, type TestCertificate, type TestCertificateAuthority, type TestCertificateOptions } from './certificates.js';
import type { JsonWebKeySet } from './types.js';

/**
 * The `tls` option of `createLocalIssuer`: serve https and accept mutual TLS.
 *
 * @example
 * ```ts
 * import { createLocalIssuer } from 'express-m2m/testing';
 *
 * const issuer = await createLocalIssuer({ tls: {} }); // a throwaway CA, a server certificate for 127.0.0.1
 * const client = issuer.tls!.issueClientCertificate({ subject: 'CN=orders' });
 * issuer.registerClient({ clientId: 'orders', audiences: ['https://api.example'], tlsClientAuth: { subjectDn: 'CN=orders' } });
 * ```
 */
export interface LocalIssuerTlsOptions {
  /** The server's certificate (PEM). Default: one issued for 127.0.0.1, ::1 and localhost by the issuer's throwaway CA. */
  cert?: string;
  /** Its private key (PEM). Given with `cert`. */
  key?: string;
  /** CA certificates (PEM) whose client certificates `tls_client_auth` accepts. Default: the issuer's throwaway CA. */
  clientCa?: string | string[];
}

/**
 * What a client registered for `tls_client_auth` (RFC 8705 section 2.1.2) is matched by: exactly
 * one of the subject DN or a subjectAltName entry of its certificate, which must be issued by a
 * trusted CA (`tls.clientCa`).
 *
 * @example
 * ```ts
 * const byDn: LocalTlsClientAuth = { subjectDn: 'CN=orders,O=Example' };
 * const bySpiffeId: LocalTlsClientAuth = { sanUri: 'spiffe://mesh/orders' };
 * ```
 */
export interface LocalTlsClientAuth {
  /** `tls_client_auth_subject_dn`, RFC 4514 (most specific first), e.g. `CN=orders,O=Example`. */
  subjectDn?: string;
  /** `tls_client_auth_san_dns`. */
  sanDns?: string;
  /** `tls_client_auth_san_uri`. */
  sanUri?: string;
  /** `tls_client_auth_san_ip`. */
  sanIp?: string;
  /** `tls_client_auth_san_email`. */
  sanEmail?: string;
}

/**
 * What a client registered for `self_signed_tls_client_auth` (RFC 8705 section 2.2) presents:
 * one of these certificates (PEM), or one in the `x5c` of a key of this JWK Set.
 *
 * @example
 * ```ts
 * const registered: LocalSelfSignedTlsClientAuth = { certificates: [selfSigned.cert] };
 * ```
 */
export interface LocalSelfSignedTlsClientAuth {
  /** The client's self-signed certificates (PEM). */
  certificates?: string[];
  /** A JWK Set whose keys carry the certificates in `x5c` (the first of each). */
  jwks?: JsonWebKeySet;
}

/**
 * The local issuer's TLS side (`issuer.tls`), when created with `tls`.
 *
 * @example
 * ```ts
 * const issuer = await createLocalIssuer({ tls: {} });
 * const orders = issuer.tls!.issueClientCertificate({ subject: 'CN=orders' });
 * const provider = clientCredentials({ issuerBaseURL: issuer.url, clientId: 'orders', tls: { cert: orders.cert, key: orders.key, ca: issuer.tls!.ca } });
 * ```
 */
export interface LocalIssuerTls {
  /** The CA to trust for the issuer's https (PEM): the throwaway CA, or what signed your `cert`. */
  readonly ca: string;
  /** The mTLS alias of the token endpoint (`mtls_endpoint_aliases.token_endpoint`): `${url}/mtls/oauth/token`. */
  readonly tokenEndpoint: string;
  /** The throwaway CA (absent when you gave `cert` and `key`). */
  readonly authority: TestCertificateAuthority | undefined;
  /** A client certificate issued by the throwaway CA (which `tls_client_auth` trusts by default). */
  issueClientCertificate(options?: TestCertificateOptions): TestCertificate;
}

/** The registration of a client for the mTLS methods. */
export interface TlsRegistration {
  tlsClientAuth: { field: keyof LocalTlsClientAuth; value: string } | undefined;
  /** Thumbprints of the registered self-signed certificates. */
  selfSigned: Set<string> | undefined;
}

/** `tls`, checked: what the https server is made of. */
export interface CheckedTls {
  cert: string;
  key: string;
  clientCa: string[];
  /** The CA that signed `cert` (to trust). */
  serverCa: string;
  authority: TestCertificateAuthority | undefined;
}

export function checkLocalIssuerTls(tls: unknown): CheckedTls | undefined {
  if (tls === undefined) return undefined;
  const fail = (message: string): never => {
    throw new TypeError(`createLocalIssuer: "tls${message}`);
  };
  if (typeof tls !== 'object' || tls === null || Array.isArray(tls)) fail('" must be an object');
  const { cert, key, clientCa, ...rest } = tls as LocalIssuerTlsOptions;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) fail(`.${unknown.slice(0, 40)}" is not an option (cert, key, clientCa)`);
  if ((cert === undefined) !== (key === undefined)) fail('.cert" and "tls.key" are given together');
  const cas = clientCa === undefined ? undefined : Array.isArray(clientCa) ? clientCa : [clientCa];
  if (cas !== undefined && !cas.every((ca) => typeof ca === 'string' && ca.includes('-----BEGIN CERTIFICATE-----'))) fail('.clientCa" must be PEM certificates');
  if (cert !== undefined) {
    if (typeof cert !== 'string' || typeof key !== 'string') fail('.cert" and "tls.key" must be PEM strings');
    return { cert: cert as string, key: key as string, clientCa: cas ?? [], serverCa: cert as string, authority: undefined };
  }
  const authority = createTestCertificateAuthority({ subject: 'CN=express-m2m local issuer CA' });
  const server = authority.issue({ usage: ['server'] });
  return { cert: server.cert, key: server.key, clientCa: cas ?? [authority.cert], serverCa: authority.cert, authority };
}

const TLS_FIELDS: ReadonlyArray<keyof LocalTlsClientAuth> = ['subjectDn', 'sanDns', 'sanUri', 'sanIp', 'sanEmail'];

/** Checks a client's `tlsClientAuth` / `selfSignedTlsClientAuth`; undefined when it has neither. */
export function toTlsRegistration(where: string, tlsClientAuth: unknown, selfSigned: unknown): TlsRegistration | undefined {
  if (tlsClientAuth === undefined && selfSigned === undefined) return undefined;
  let match: TlsRegistration['tlsClientAuth'];
  if (tlsClientAuth !== undefined) {
    const entries = typeof tlsClientAuth === 'object' && tlsClientAuth !== null ? Object.entries(tlsClientAuth) : [];
    const [field, value] = entries[0] ?? [];
    if (entries.length !== 1 || !TLS_FIELDS.includes(field as keyof LocalTlsClientAuth) || typeof value !== 'string' || value === '') {
      throw new TypeError(`${where}: "tlsClientAuth" must have exactly one of ${TLS_FIELDS.join(', ')} (a non-empty string)`);
    }
    match = { field: field as keyof LocalTlsClientAuth, value: field === 'subjectDn' ? normalDn(value) : value };
  }
  let thumbprints: Set<string> | undefined;
  if (selfSigned !== undefined) {
    const { certificates, jwks } = (selfSigned ?? {}) as LocalSelfSignedTlsClientAuth;
    const pems: Array<string | Buffer> = [...(Array.isArray(certificates) ? certificates : [])];
    for (const jwk of Array.isArray(jwks?.keys) ? jwks.keys : []) {
      const x5c = (jwk as { x5c?: unknown }).x5c;
      if (Array.isArray(x5c) && typeof x5c[0] === 'string') pems.push(Buffer.from(x5c[0], 'base64'));
    }
    try {
      thumbprints = new Set(pems.map((pem) => certificateThumbprint(new X509Certificate(pem).raw)));
    } catch {
      throw new TypeError(`${where}: "selfSignedTlsClientAuth" must hold X.509 certificates (PEM, or x5c in the JWK Set)`);
    }
    if (thumbprints.size === 0) throw new TypeError(`${where}: "selfSignedTlsClientAuth" must have "certificates" or a "jwks" with x5c`);
  }
  return { tlsClientAuth: match, selfSigned: thumbprints };
}

/** A DN compared as RFC 4514 text: attribute types upper-case, no spaces around `=` and `,`. */
function normalDn(dn: string): string {
  return dn.split(',').map((part) => {
    const at = part.indexOf('=');
    return at < 0 ? part.trim() : `${part.slice(0, at).trim().toUpperCase()}=${part.slice(at + 1).trim()}`;
  }).join(',');
}

/** The client certificate of an https request to the issuer, with whether it chains to `tls.clientCa`. */
export interface PresentedCertificate {
  der: Buffer;
  thumbprint: string;
  /** Issued by a trusted CA (the TLS layer verified the chain). */
  trusted: boolean;
}

export function presentedCertificate(req: IncomingMessage): PresentedCertificate | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const peer = socket.getPeerCertificate();
  if (peer === null || typeof peer !== 'object' || peer.raw === undefined) return undefined;
  return { der: peer.raw, thumbprint: certificateThumbprint(peer.raw), trusted: socket.authorized === true };
}

/** Whether `certificate` authenticates a client with registration `tls` by `method` (RFC 8705 section 2). */
export function certificateMatches(
  registration: TlsRegistration,
  method: 'tls_client_auth' | 'self_signed_tls_client_auth',
  certificate: PresentedCertificate,
): boolean {
  if (method === 'self_signed_tls_client_auth') return registration.selfSigned?.has(certificate.thumbprint) === true;
  const match = registration.tlsClientAuth;
  if (match === undefined || !certificate.trusted) return false;
  const x509 = new X509Certificate(certificate.der);
  if (match.field === 'subjectDn') return normalDn(x509.subject.split('\n').reverse().join(',')) === match.value;
  const prefix = { sanDns: 'DNS:', sanUri: 'URI:', sanIp: 'IP Address:', sanEmail: 'email:' }[match.field];
  return (x509.subjectAltName ?? '').split(', ').some((entry) => entry === `${prefix}${match.value}`);
}

/** The issuer's server: plain http, or https asking for (not requiring) a client certificate. */
export function createIssuerServer(tls: CheckedTls | undefined, handler: (req: IncomingMessage, res: ServerResponse) => void): HttpServer | HttpsServer {
  if (tls === undefined) return createHttpServer(handler);
  return createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: true, rejectUnauthorized: false }, handler);
}

/** The path of the mTLS alias of the token endpoint, under the issuer's path. */
export const MTLS_TOKEN_PATH = '/mtls/oauth/token';

/** What the metadata says of mTLS (RFC 8705 sections 2.1.1, 3.3, 5), when the issuer has `tls`. */
export function mtlsMetadata(tls: CheckedTls | undefined, url: string): Record<string, unknown> {
  if (tls === undefined) return {};
  return { mtls_endpoint_aliases: { token_endpoint: `${url}${MTLS_TOKEN_PATH}` }, tls_client_certificate_bound_access_tokens: true };
}

/** `issuer.tls`. */
export function issuerTls(tls: CheckedTls | undefined, url: string): LocalIssuerTls | undefined {
  if (tls === undefined) return undefined;
  const { authority } = tls;
  return Object.freeze({
    ca: tls.serverCa,
    tokenEndpoint: `${url}${MTLS_TOKEN_PATH}`,
    authority,
    issueClientCertificate(options: TestCertificateOptions = {}) {
      if (authority === undefined) throw new TypeError('issueClientCertificate: the issuer was given its own "tls.cert" (issue client certificates with your CA)');
      return authority.issue({ usage: ['client'], ...options });
    },
  });
}
