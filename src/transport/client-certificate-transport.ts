/**
 * The transport of a client that presents a client certificate (mutual TLS, RFC 8705): undici's
 * own `fetch` with an undici `Agent` holding the certificate and key, never a global dispatcher.
 *
 * Why undici's `fetch` and not the global one: Node's global `fetch` is built on the undici that
 * Node bundles (6.x on Node 20), and an `Agent` of the npm `undici` package is not guaranteed to
 * work as its `dispatcher` (the dispatcher interface changed in undici 7). undici's own `fetch`
 * with its own `Agent` always fits. undici is an optional peer dependency, loaded only when the
 * `tls` option is used.
 *
 * Certificates rotate: a `cert`, `key` or `ca` given as a file path is checked on use, at most
 * once a second (`fs.stat`: modification time, size, inode). When one changed, the files are read
 * again and, if they are a certificate and its key, become a new generation with its own agent;
 * requests in flight finish on the old one, which is closed once they have. Files caught half
 * written (a key that does not fit the certificate) are ignored until the next check.
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync, statSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { certificateThumbprint } from '../inbound/certificates/certificate-thumbprint.js';
import type { KnownOptions, OptionReader } from '../options/option-reader.js';
import type { FetchLike } from './fetch-like.js';

/**
 * The client certificate of mutual TLS (RFC 8705): `cert`, `key` and `ca`, each PEM text or the
 * path of a PEM file. A value that contains `-----BEGIN` is PEM; anything else is a file path,
 * read at creation and checked for changes on use (at most once a second), so that a rotated
 * certificate is picked up without a restart. Needs the optional peer dependency `undici`
 * (`npm install undici`).
 *
 * @example
 * ```ts
 * import { clientCredentials, type ClientTlsOptions } from 'express-m2m';
 *
 * const tls: ClientTlsOptions = { cert: '/etc/tls/client.crt', key: '/etc/tls/client.key', ca: '/etc/tls/ca.crt' };
 * const billing = clientCredentials({ issuerBaseURL: 'https://auth.example.com/', clientId: 'orders', authMethod: 'tls_client_auth', tls });
 * ```
 */
export interface ClientTlsOptions {
  /** The client certificate (PEM, or a file path), optionally followed by its intermediate certificates. Required. */
  cert: string;
  /** Its private key (PEM, or a file path). Required. */
  key: string;
  /** The passphrase of an encrypted `key`. Default none. */
  passphrase?: string;
  /** CA certificates to trust for the servers (PEM, or file paths) instead of Node's default list. Default: Node's list. */
  ca?: string | readonly string[];
}

const TLS_OPTION_NAMES: KnownOptions<ClientTlsOptions> = { cert: true, key: true, passphrase: true, ca: true };
/** Shortest time between two checks of the files. */
const CHECK_INTERVAL = 1000;

/** One certificate and key, with the agent that presents them. */
export interface CertificateGeneration {
  /** `x5t#S256` of the certificate: the `cnf` of the tokens bound to it. */
  readonly thumbprint: string;
  /** The certificate's private key (the shared cache's integrity key derives from it). */
  readonly privateKey: KeyObject;
  /** Requests over this certificate. */
  readonly fetch: FetchLike;
  /** Closes the agent once its requests in flight are done. */
  close(): Promise<void>;
}

interface Source {
  readonly option: 'cert' | 'key' | 'ca';
  /** PEM given as is, or a file path. */
  readonly pem?: string;
  readonly path?: string;
}

interface Material {
  cert: string;
  key: string;
  ca: string[] | undefined;
}

/** The subset of undici this transport uses (the package is optional: its types stay internal). */
interface Undici {
  Agent: new (options: { connect: Record<string, unknown> }) => { close(): Promise<void> };
  fetch: (input: string, init: Record<string, unknown>) => Promise<Response>;
}

let undiciModule: Promise<Undici> | undefined;
function loadUndici(): Promise<Undici> {
  undiciModule ??= (import('undici') as unknown as Promise<Undici>).catch((error: unknown) => {
    undiciModule = undefined;
    throw new Error('the "tls" option needs the package undici (an optional peer dependency): npm install undici', { cause: error });
  });
  return undiciModule;
}

const isPem = (value: string): boolean => value.includes('-----BEGIN');
/** What tells a changed file: modification time, size, inode (a file replaced by a rename). */
const stampOf = (info: Stats): string => `${info.mtimeMs}:${info.size}:${info.ino}`;

/** A request's input and init as undici's fetch takes them (a platform `Request` is unpacked). */
function unpack(input: string | URL | Request, init: RequestInit | undefined): [string, Record<string, unknown>] {
  if (typeof input === 'string') return [input, { ...init }];
  if (input instanceof URL) return [input.href, { ...init }];
  const request = input;
  return [request.url, {
    method: request.method, headers: request.headers, redirect: request.redirect, signal: request.signal,
    ...(request.body === null ? {} : { body: request.body, duplex: 'half' }),
    ...init,
  }];
}

/** Checks that `material` is a certificate and its key; the generation's parts. */
function parse(material: Material, passphrase: string | undefined): { thumbprint: string; privateKey: KeyObject } {
  const certificate = new X509Certificate(material.cert);
  const privateKey = createPrivateKey(passphrase === undefined ? material.key : { key: material.key, passphrase });
  if (!certificate.publicKey.equals(createPublicKey(privateKey))) throw new Error('the key is not the key of the certificate');
  return { thumbprint: certificateThumbprint(certificate.raw), privateKey };
}

function makeGeneration(material: Material, passphrase: string | undefined, parts: { thumbprint: string; privateKey: KeyObject }): CertificateGeneration {
  const connect = { cert: material.cert, key: material.key, ...(passphrase === undefined ? {} : { passphrase }), ...(material.ca === undefined ? {} : { ca: material.ca }) };
  let agent: Promise<{ undici: Undici; agent: InstanceType<Undici['Agent']> }> | undefined;
  const ready = () => (agent ??= loadUndici().then((undici) => ({ undici, agent: new undici.Agent({ connect }) })));
  return {
    thumbprint: parts.thumbprint,
    privateKey: parts.privateKey,
    fetch: async (input, init) => {
      const { undici, agent: dispatcher } = await ready();
      const [url, options] = unpack(input, init);
      return undici.fetch(url, { ...options, dispatcher });
    },
    close: async () => {
      if (agent !== undefined) await (await agent.catch(() => undefined))?.agent.close();
    },
  };
}

/** The certificate of a client, reloaded when its files change. */
export class ClientCertificateTransport {
  private generation: CertificateGeneration;
  private readonly sources: Source[];
  private readonly passphrase: string | undefined;
  private readonly now: () => number;
  private stamps: string;
  private checkedAt: number;
  private checking: Promise<CertificateGeneration> | undefined;
  private readonly listeners: Array<(generation: CertificateGeneration) => void> = [];

  /** Reads `tls` (required) through `read`; throws a `TypeError` naming the option. */
  constructor(read: OptionReader<ClientTlsOptions>, now: () => number) {
    const source = (option: 'cert' | 'key' | 'ca', value: unknown, name: string = option): Source => {
      if (typeof value !== 'string' || value === '') read.fail(name, 'must be PEM text or the path of a PEM file');
      return isPem(value) ? { option, pem: value } : { option, path: value };
    };
    const cert = read.raw('cert');
    const key = read.raw('key');
    if (cert === undefined) read.required('cert', 'the client certificate, PEM or a file path');
    if (key === undefined) read.required('key', 'the private key of the certificate, PEM or a file path');
    const ca = read.raw('ca');
    const cas = ca === undefined ? [] : typeof ca === 'string' ? [source('ca', ca)] : Array.isArray(ca) && ca.length > 0
      ? ca.map((item, index) => source('ca', item, `ca[${index}]`)) : read.fail('ca', 'must be PEM text, a file path, or a non-empty array of them');
    this.sources = [source('cert', cert), source('key', key), ...cas];
    this.passphrase = read.string('passphrase');
    this.now = now;
    const texts: string[] = [];
    const stamps: string[] = [];
    for (const item of this.sources) {
      try {
        texts.push(item.pem ?? readFileSync(item.path as string, 'utf8'));
        stamps.push(item.path === undefined ? '-' : stampOf(statSync(item.path)));
      } catch (error) {
        read.fail(item.option, `cannot be read from its file (${(error as { code?: string }).code ?? 'error'})`);
      }
    }
    const material = this.assemble(texts);
    try {
      new X509Certificate(material.cert);
    } catch {
      read.fail('cert', 'must be an X.509 certificate in PEM (or the path of one)');
    }
    let parts: { thumbprint: string; privateKey: KeyObject } | undefined;
    try {
      parts = parse(material, this.passphrase);
    } catch {
      parts = undefined;
    }
    if (parts === undefined) read.fail('key', 'must be the PEM private key of "tls.cert" (unencrypted, or with "tls.passphrase")');
    this.generation = makeGeneration(material, this.passphrase, parts);
    this.stamps = stamps.join('|');
    this.checkedAt = now();
  }

  /** The certificate in use now. */
  get current(): CertificateGeneration {
    return this.generation;
  }

  /** Called with each new generation (after a rotation). */
  onRotate(listener: (generation: CertificateGeneration) => void): void {
    this.listeners.push(listener);
  }

  /**
   * The generation to use for a call: the current one, after checking the files when the last
   * check is a second old or more. Never rejects: a failed check keeps the current generation.
   */
  use(): CertificateGeneration | Promise<CertificateGeneration> {
    if (!this.watched || this.now() - this.checkedAt < CHECK_INTERVAL) return this.generation;
    this.checking ??= this.check().finally(() => { this.checking = undefined; });
    return this.checking;
  }

  /** Requests through the certificate in use (checked for rotation first). */
  readonly fetch: FetchLike = async (input, init) => (await this.use()).fetch(input, init);

  private get watched(): boolean {
    return this.sources.some((item) => item.path !== undefined);
  }

  private assemble(texts: string[]): Material {
    const [cert, key, ...ca] = texts as [string, string, ...string[]];
    return { cert, key, ca: ca.length === 0 ? undefined : ca };
  }

  private async stampsNow(): Promise<string> {
    const stamps = await Promise.all(this.sources.map(async (item) => {
      if (item.path === undefined) return '-';
      return stampOf(await stat(item.path));
    }));
    return stamps.join('|');
  }

  private async check(): Promise<CertificateGeneration> {
    this.checkedAt = this.now();
    try {
      const stamps = await this.stampsNow();
      if (stamps === this.stamps) return this.generation;
      const material = this.assemble(await Promise.all(this.sources.map((item) => item.pem ?? readFile(item.path as string, 'utf8'))));
      const parts = parse(material, this.passphrase);
      this.stamps = stamps;
      if (parts.thumbprint === this.generation.thumbprint) return this.generation;
      this.generation = makeGeneration(material, this.passphrase, parts);
      for (const listener of this.listeners) listener(this.generation);
    } catch {
      // Missing or half-written files: keep the current certificate; the next check tries again.
    }
    return this.generation;
  }
}

/** Reads the `tls` option: a transport, or undefined when not given. */
export function readClientTls<T extends { tls?: ClientTlsOptions }>(read: OptionReader<T>, now: () => number): ClientCertificateTransport | undefined {
  if (!read.has('tls' as keyof T & string)) return undefined;
  return new ClientCertificateTransport(read.nested<ClientTlsOptions>('tls' as keyof T & string, TLS_OPTION_NAMES), now);
}
