/**
 * The issuer resolution of an API whose trusted issuers come from the user's function (a tenant
 * per customer, a directory): the token's unverified `iss` is passed to it, once per issuer; the
 * verifier built from its answer is kept, up to `maxIssuers` (least recently used first out, its
 * caches and timers closed), so a function that returns a new configuration per request cannot
 * grow memory without bound. An issuer it does not trust is remembered for a minute, so a flood
 * of made-up `iss` values calls it once each per minute at most. A function that throws, or does
 * not answer within the timeout, gets the request a 503 (the API cannot tell now).
 */
import { KeySourceUnavailableError } from '../../errors/bearer-errors.js';
import { withoutStack } from '../../errors/without-stack.js';
import type { InboundRequest } from '../inbound-request.js';
import type { TokenVerifier } from '../verifiers/token-verifier.js';
import { issuerKey } from './issuer-key.js';
import { untrustedIssuer, type IssuerOptions, type IssuerResolverFunction } from './issuer-options.js';
import type { IssuerResolver } from './issuer-resolver.js';
import { peekIssuer } from './peek-issuer.js';
import { reportsHealth } from '../../lib/health-registry.js';
import { issuersHealth } from './issuers-health.js';

/** How long an issuer the function does not trust is remembered. */
const UNTRUSTED_MEMORY = 60_000;

export interface IssuerCallbackSettings {
  maxIssuers: number;
  timeout: number;
  now: () => number;
  /** Builds the verifier of a configuration the function returned (throws a `TypeError` for bad options). */
  build: (options: IssuerOptions, issuer: string) => { key: string; verifier: TokenVerifier };
}

function unavailable(cause: unknown): KeySourceUnavailableError {
  return withoutStack(() => new KeySourceUnavailableError('the token issuer\'s configuration is temporarily unavailable', 1, { cause }));
}

export function issuerCallback(resolve: IssuerResolverFunction, settings: IssuerCallbackSettings): IssuerResolver {
  /** Insertion order = recency (a hit moves the entry to the end). */
  const verifiers = new Map<string, TokenVerifier>();
  const untrusted = new Map<string, number>();
  const pending = new Map<string, Promise<TokenVerifier>>();

  const keep = (key: string, verifier: TokenVerifier): TokenVerifier => {
    verifiers.set(key, verifier);
    while (verifiers.size > settings.maxIssuers) {
      const [oldestKey, oldest] = verifiers.entries().next().value as [string, TokenVerifier];
      verifiers.delete(oldestKey);
      oldest.close();
    }
    return verifier;
  };

  const remember = (key: string): void => {
    untrusted.set(key, settings.now() + UNTRUSTED_MEMORY);
    while (untrusted.size > settings.maxIssuers) untrusted.delete(untrusted.keys().next().value as string);
  };

  /** The verifier from the function's answer for `issuer`, or the refusal. */
  const adopt = (issuer: string, key: string, answer: IssuerOptions | undefined): TokenVerifier => {
    if (answer === undefined) {
      remember(key);
      return untrustedIssuer(issuer);
    }
    let built: { key: string; verifier: TokenVerifier };
    try {
      built = settings.build(answer, issuer);
    } catch (error) {
      throw unavailable(error);
    }
    if (built.key !== key) {
      // A configuration for another issuer: never verify this token with it.
      built.verifier.close();
      remember(key);
      return untrustedIssuer(issuer);
    }
    return keep(key, built.verifier);
  };

  const ask = (issuer: string, key: string, request: InboundRequest): Promise<TokenVerifier> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unavailable(new Error(`the issuer resolver did not answer within ${settings.timeout} ms`))), settings.timeout);
    });
    const answer = Promise.resolve().then(() => resolve({ issuer, request })).then(
      (options) => adopt(issuer, key, options),
      (error: unknown) => { throw unavailable(error); },
    );
    return Promise.race([answer, timedOut]).finally(() => {
      clearTimeout(timer);
      pending.delete(key);
    });
  };

  const resolver: IssuerResolver = {
    verifierFor(credentials, request) {
      const issuer = peekIssuer(credentials.token);
      const key = issuerKey(issuer);
      const known = verifiers.get(key);
      if (known !== undefined) {
        verifiers.delete(key);
        verifiers.set(key, known);
        return known;
      }
      const until = untrusted.get(key);
      if (until !== undefined) {
        if (settings.now() < until) return untrustedIssuer(issuer);
        untrusted.delete(key);
      }
      const inFlight = pending.get(key);
      if (inFlight !== undefined) return inFlight;
      const asked = ask(issuer, key, request);
      pending.set(key, asked);
      return asked;
    },
    async warmUp() {
      // Issuers are known only from tokens: nothing to warm up before the first one.
    },
    close() {
      for (const verifier of verifiers.values()) verifier.close();
      verifiers.clear();
    },
  };
  reportsHealth(resolver, (now) => issuersHealth(verifiers.values(), now));
  return resolver;
}

