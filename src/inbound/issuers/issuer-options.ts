/**
 * Several trusted issuers: their options, and the verifier built for each. The options an issuer
 * leaves out come from the top level of `requireAuth` / `createAuthenticator` (the audience, the
 * clock tolerance, the cache...), so that what all issuers share is written once.
 */
import { InvalidTokenError } from '../../errors/bearer-errors.js';
import { withoutStack } from '../../errors/without-stack.js';
import { OptionReader, type KnownOptions } from '../../options/option-reader.js';
import type { InboundRequest } from '../inbound-request.js';
import { buildTokenVerifier, TOKEN_VERIFIER_OPTION_NAMES } from '../verifiers/build-token-verifier.js';
import type { IntrospectingVerifierOptions } from '../verifiers/introspection/build-introspection-verifier.js';
import type { IntrospectionOptions } from '../verifiers/introspection/types.js';
import type { TokenVerifier } from '../verifiers/token-verifier.js';
import { VERIFIER_OPTION_NAMES } from '../verifiers/jwt/resolve-options.js';
import type { VerifierOptions } from '../verifiers/jwt/types.js';
import { shown } from '../rejection-detail.js';
import { issuerKey } from './issuer-key.js';

/**
 * One trusted issuer: its identity (`issuer` and/or `issuerBaseURL`), its keys, and any verifier
 * option of its own (an `audience`, `algorithms`, `scopeClaim`, ...). What it leaves out comes
 * from the top level of the options.
 *
 * @example
 * ```ts
 * import { requireAuth, type IssuerOptions } from 'express-m2m';
 *
 * const issuers: IssuerOptions[] = [
 *   { issuerBaseURL: 'https://tenant-a.example.com/' },
 *   { issuerBaseURL: 'https://login.example.org/', scopeClaim: 'scp' },
 * ];
 * app.use(requireAuth({ audience: 'https://api.example', issuers }));
 * ```
 */
export type IssuerOptions = Omit<VerifierOptions, 'onEvent' | 'now' | 'fetch' | 'audience'> & {
  /** This issuer's expected `aud`. Default: the top-level `audience`. */
  audience?: string | string[];
  /**
   * Introspect this issuer's opaque tokens (or all its tokens): see {@link IntrospectionOptions}.
   * At most one entry of a list may have it: a token that is not a JWT names no issuer, and goes
   * to that one. Default: none.
   */
  introspection?: IntrospectionOptions;
};

/**
 * Chooses the configuration of the issuer a token claims (its unverified `iss`), or `undefined`
 * for an issuer that is not trusted (401). Called once per issuer (the verifier built for it is
 * kept, up to `maxIssuers`); it may be async (bounded by `issuerResolverTimeout`). The
 * configuration it returns must be that issuer's: one naming another is refused.
 *
 * @example
 * ```ts
 * import { requireAuth, type IssuerResolverFunction } from 'express-m2m';
 *
 * const tenants = new Map([['https://acme.auth.example/', { issuerBaseURL: 'https://acme.auth.example/' }]]);
 * const issuers: IssuerResolverFunction = ({ issuer }) => tenants.get(issuer);
 * app.use(requireAuth({ audience: 'https://api.example', issuers }));
 * ```
 */
export type IssuerResolverFunction = (context: { issuer: string; request: InboundRequest }) => IssuerOptions | undefined | PromiseLike<IssuerOptions | undefined>;

/** The names an issuer's own options may use. */
export const ISSUER_OPTION_NAMES: KnownOptions<IssuerOptions> = (() => {
  const { onEvent: _onEvent, now: _now, fetch: _fetch, ...names } = VERIFIER_OPTION_NAMES;
  return { ...names, introspection: true };
})();

/** Top-level options that say which issuer to trust: with `issuers`, they belong in its entries. */
export const ISSUER_IDENTITY_OPTIONS = ['issuer', 'issuerBaseURL', 'jwksUri', 'publicKey', 'secret', 'keySource'] as const;

/** Everything an issuer's verifier is built from besides its own options. */
export interface IssuerDefaults {
  caller: string;
  /** The top-level options an issuer inherits (and onEvent, now, fetch, which it always shares). */
  values: Record<string, unknown>;
  /** Where the top-level values came from (option name -> environment variable). */
  origins: ReadonlyMap<string, string> | undefined;
}

/** The verifier of one issuer, its lookup key, and whether it introspects; bad options throw a `TypeError` naming `path`. */
export function buildIssuerVerifier(entry: unknown, path: string, defaults: IssuerDefaults): { key: string; verifier: TokenVerifier; introspects: boolean } {
  // The entry's own names are checked against what an issuer may set; its values with the defaults.
  new OptionReader<IssuerOptions>(entry, ISSUER_OPTION_NAMES, { caller: defaults.caller, path });
  const own = entry as Record<string, unknown>;
  const env = new Map<string, string>();
  for (const [option, variable] of defaults.origins ?? []) if (!(option in own)) env.set(`${path}${option}`, variable);
  const merged = { ...defaults.values, ...own };
  const read = new OptionReader<IntrospectingVerifierOptions>(merged, TOKEN_VERIFIER_OPTION_NAMES, { caller: defaults.caller, path, env });
  const { verifier, identity, introspects } = buildTokenVerifier(read);
  return { key: issuerKey(identity), verifier, introspects };
}

/** 401 for a token whose issuer is not trusted here (found without any network call). */
export function untrustedIssuer(issuer: string): never {
  throw withoutStack(() => new InvalidTokenError("the token's issuer is not trusted here", 'ERR_JWT_ISSUER', {
    detail: { claim: 'iss', received: shown(issuer) },
  }));
}
