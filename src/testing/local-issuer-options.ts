/**
 * Internal: the one place where `createLocalIssuer`'s options are validated and defaulted.
 */
import { OptionReader, type KnownOptions } from '../options/option-reader.js';
import { LOCAL_ISSUER_ALGORITHMS, isLocalIssuerAlgorithm } from './key-ring.js';
import { checkLocalIssuerTls, type CheckedTls } from './mtls.js';
import type { LocalIssuerAlgorithm, LocalIssuerOptions } from './types.js';

/** `createLocalIssuer`'s options, validated, with defaults. */
export interface CheckedOptions {
  host: string;
  port: number;
  alg: LocalIssuerAlgorithm;
  tokenLifetime: number;
  tokenType: string;
  jwksCacheControl: string | undefined;
  path: string;
  maxAssertionLifetime: number;
  maxBodySize: number;
  now: () => number;
  /** `dpop.nonce`: DPoP proofs at the token endpoint need the issuer's nonce. */
  dpopNonce: boolean;
  tls: CheckedTls | undefined;
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`createLocalIssuer: "${name}" must be a positive integer`);
  }
  return value;
}

const LOCAL_ISSUER_OPTION_NAMES: KnownOptions<LocalIssuerOptions> = {
  host: true, port: true, alg: true, clients: true, tokenLifetime: true, tokenType: true, jwksCacheControl: true,
  path: true, maxAssertionLifetime: true, maxBodySize: true, now: true, tls: true,
  dpop: true,
};

export function checkLocalIssuerOptions(options: LocalIssuerOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('createLocalIssuer: options must be an object');
  // Misspelt names are refused with a suggestion; the values are checked below.
  new OptionReader<LocalIssuerOptions>(options, LOCAL_ISSUER_OPTION_NAMES, { caller: 'createLocalIssuer' });
  const { host = '127.0.0.1', port = 0, alg = 'RS256', tokenType = 'at+jwt', jwksCacheControl, path = '', now = Date.now } = options;
  if (typeof host !== 'string' || host === '') throw new TypeError('createLocalIssuer: "host" must be a non-empty string');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError('createLocalIssuer: "port" must be an integer 0-65535');
  if (!isLocalIssuerAlgorithm(alg)) {
    throw new TypeError(`createLocalIssuer: "alg" must be one of ${LOCAL_ISSUER_ALGORITHMS.join(', ')}`);
  }
  if (typeof tokenType !== 'string') throw new TypeError('createLocalIssuer: "tokenType" must be a string');
  if (jwksCacheControl !== undefined && typeof jwksCacheControl !== 'string') {
    throw new TypeError('createLocalIssuer: "jwksCacheControl" must be a string');
  }
  if (typeof path !== 'string' || (path !== '' && (!path.startsWith('/') || /[?#\s]/.test(path)))) {
    throw new TypeError('createLocalIssuer: "path" must be empty or a URL path starting with "/"');
  }
  if (typeof now !== 'function') throw new TypeError('createLocalIssuer: "now" must be a function returning milliseconds');
  if (options.clients !== undefined && !Array.isArray(options.clients)) {
    throw new TypeError('createLocalIssuer: "clients" must be an array');
  }
  return {
    host,
    port,
    alg,
    tokenLifetime: positiveInteger('tokenLifetime', options.tokenLifetime, 3600),
    tokenType,
    jwksCacheControl,
    path: path.replace(/\/+$/, ''),
    maxAssertionLifetime: positiveInteger('maxAssertionLifetime', options.maxAssertionLifetime, 300),
    maxBodySize: positiveInteger('maxBodySize', options.maxBodySize, 65_536),
    now,
    dpopNonce: readDpopNonce(options.dpop),
    tls: checkLocalIssuerTls(options.tls),
  };
}

/** `dpop: { nonce }`. */
function readDpopNonce(dpop: LocalIssuerOptions['dpop']): boolean {
  if (dpop === undefined) return false;
  const read = new OptionReader<{ nonce?: boolean }>(dpop, { nonce: true }, { caller: 'createLocalIssuer', path: 'dpop.' });
  return read.boolean('nonce', false);
}
