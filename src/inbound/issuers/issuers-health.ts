/** Internal: the health of the issuers a resolver holds, and the status of a set of issuers. */
import { healthOf } from '../../lib/health-registry.js';
import type { HealthStatus, IssuerHealth } from '../../observability/health.js';
import type { TokenVerifier } from '../verifiers/token-verifier.js';

/** What each verifier tells of itself (a verifier that tells nothing is left out). */
export function issuersHealth(verifiers: Iterable<TokenVerifier>, now: number): IssuerHealth[] {
  const list: IssuerHealth[] = [];
  for (const verifier of verifiers) {
    const health = healthOf<IssuerHealth>(verifier, now);
    if (health !== undefined) list.push(health);
  }
  return list;
}

/** `down`: an issuer without keys whose last fetch failed; `degraded`: stale keys, a failed fetch or failing introspection. */
export function issuerStatus(issuer: IssuerHealth): HealthStatus {
  const { keys, introspection } = issuer;
  if (keys?.state === 'missing' && keys.lastError !== undefined) return 'down';
  if (keys?.state === 'stale' || keys?.lastError !== undefined || (introspection?.consecutiveFailures ?? 0) > 0) return 'degraded';
  return 'ok';
}

/** The worst of the statuses. */
export function worstStatus(statuses: Iterable<HealthStatus>): HealthStatus {
  let worst: HealthStatus = 'ok';
  for (const status of statuses) {
    if (status === 'down') return 'down';
    if (status === 'degraded') worst = 'degraded';
  }
  return worst;
}
