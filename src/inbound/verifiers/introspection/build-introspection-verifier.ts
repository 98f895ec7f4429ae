/**
 * Internal: the verifier of an issuer with the `introspection` option: its options read once
 * (the verifier's own, for the claims, issuer and keys, and the `introspection` object), one
 * discovery shared by the JWT side and introspection, and the issuer's key source for its JWTs
 * and its signed answers (RFC 9701).
 */
import type { OptionReader } from '../../../options/option-reader.js';
import { UpstreamError } from '../../../transport/fetch-json.js';
import type { TokenVerifier } from '../token-verifier.js';
import { ALGORITHMS, type AlgorithmSpec } from '../jwt/algorithms.js';
import type { ClaimsPolicy } from '../jwt/check-claims.js';
import { buildJwtParts, needsDiscovery, planDiscovery, planEmitter } from '../jwt/create-verifier.js';
import { resolveVerifierOptions, type RequiredOptionVariables } from '../jwt/resolve-options.js';
import type { VerifierOptions } from '../jwt/types.js';
import { introspectionVerifier } from './introspection-verifier.js';
import { INTROSPECTION_OPTION_NAMES, resolveIntrospectionOptions } from './resolve-introspection-options.js';
import { routeByFormat } from './route-by-format.js';
import type { IntrospectionOptions } from './types.js';
import { healthOf, reportsHealth } from '../../../lib/health-registry.js';
import type { IntrospectionHealth, IssuerHealth } from '../../../observability/health.js';

/** The verifier's options with `introspection`. */
export type IntrospectingVerifierOptions = VerifierOptions & { introspection?: IntrospectionOptions };

/** The verifier of the options read by `read` (which has `introspection`), and the issuer it trusts. */
export function buildIntrospectingVerifier(
  read: OptionReader<IntrospectingVerifierOptions>,
  variables?: RequiredOptionVariables,
): { verifier: TokenVerifier; identity: string } {
  const now = read.func<() => number>('now', 'a function returning milliseconds') ?? Date.now;
  const options = resolveIntrospectionOptions(read.nested('introspection', INTROSPECTION_OPTION_NAMES), read.boolean('allowInsecureHttp', false), now);
  const keysNeeded = options.tokens === 'opaque' || options.jwtResponse;
  const plan = resolveVerifierOptions(read, variables, keysNeeded);
  const base = plan.resolved;
  const { issuerBaseURL } = base;
  if (options.endpoint === undefined && issuerBaseURL === undefined) {
    read.fail('introspection.endpoint', 'is required without "issuerBaseURL" (whose metadata would name the introspection_endpoint)');
  }
  const emit = planEmitter(plan);
  const discovery = needsDiscovery(plan) || (issuerBaseURL !== undefined && options.endpoint === undefined) ? planDiscovery(plan, emit) : undefined;
  const parts = keysNeeded ? buildJwtParts(read, plan, discovery) : undefined;

  let expectedIssuer = base.issuer;
  const issuer = (): string | Promise<string> => expectedIssuer
    ?? (discovery as NonNullable<typeof discovery>).metadata().then((metadata) => (expectedIssuer = metadata.issuer));
  const configured = options.endpoint;
  const endpoint = (): string | Promise<string> => configured ?? (discovery as NonNullable<typeof discovery>).metadata().then((metadata) => {
    const found = metadata.introspection_endpoint;
    if (found === undefined) throw new UpstreamError(`the metadata of ${issuerBaseURL} has no "introspection_endpoint"`, undefined, undefined, true);
    return found;
  });
  const claims = plan.claims;
  const policy: ClaimsPolicy = {
    audience: claims?.replaces.aud === true ? undefined : new Set(base.audience),
    exactIssuer: claims?.replaces.iss !== true,
    clockTolerance: base.clockTolerance,
    maxTokenAge: base.maxTokenAge,
    requiredClaims: base.requiredClaims.filter((claim) => claim !== 'exp'),
    introspected: true,
  };
  const keys = parts === undefined || !options.jwtResponse ? undefined : {
    keySource: parts.keySource,
    algorithms: new Map<string, AlgorithmSpec>(parts.verifier.options.algorithms.map((alg) => [alg, ALGORITHMS.get(alg) as AlgorithmSpec])),
  };
  // With tokens: 'opaque' the JWT verifier owns (and closes) the key source; with 'all' introspection does.
  const ownsKeys = options.tokens === 'all';
  const introspection = introspectionVerifier({
    options,
    endpoint,
    issuer,
    policy,
    claims,
    scopeClaim: base.scopeClaim,
    maxTokenLength: base.maxTokenLength,
    keys,
    async warmUp() {
      if (discovery !== undefined) expectedIssuer ??= (await discovery.metadataForWarmUp()).issuer;
      if (ownsKeys && parts !== undefined) await parts.keySource.warmUp();
    },
    closeKeys: () => {
      if (ownsKeys) parts?.keySource.close?.();
    },
    emit,
    reporting: plan.onEvent !== undefined,
    now: plan.now,
    fetch: plan.fetch,
  });
  const verifier = parts !== undefined && options.tokens === 'opaque' ? routeByFormat(parts.verifier, introspection) : introspection;
  const identity = (base.issuer ?? issuerBaseURL) as string;
  reportsHealth(verifier, (now): IssuerHealth => {
    const keys = parts === undefined ? undefined : healthOf<IssuerHealth>(parts.verifier, now)?.keys;
    return { issuer: identity, ...(keys === undefined ? {} : { keys }), introspection: healthOf<IntrospectionHealth>(introspection, now) ?? { consecutiveFailures: 0 } };
  });
  return { verifier, identity };
}
