/**
 * Internal: the registered-claim checks of RFC 7519 / RFC 9068 on a payload whose signature is
 * already verified, with the policy resolved once at construction. Time checks follow jose's
 * semantics exactly (`now` in whole seconds; `exp <= now - tolerance` is expired; `nbf > now +
 * tolerance` is not yet valid), so cached and uncached verification agree.
 */
import type { JWTPayload } from 'jose';
import { mismatch } from '../../rejection-detail.js';
import { invalidToken } from './invalid-token.js';

/** What the claims must satisfy, resolved at construction. */
export interface ClaimsPolicy {
  /** Accepted audiences, or `undefined` when a rule of the user's checks `aud` instead. */
  readonly audience: ReadonlySet<string> | undefined;
  /** Whether `iss` must equal the configured issuer (`false` when a rule of the user's checks it instead). */
  readonly exactIssuer: boolean;
  readonly clockTolerance: number;
  readonly maxTokenAge: number | undefined;
  /** Claims that must be present besides `exp`, `iss` and `aud`. */
  readonly requiredClaims: readonly string[];
  /**
   * Introspection responses (RFC 7662 section 2.2): `exp` and `iss` are optional there; when
   * present they are checked as a JWT's. Default `false` (a JWT must carry both).
   */
  readonly introspected?: boolean;
}

/** The window (epoch seconds) in which a token that passed the checks keeps passing them. */
export interface ValidityWindow {
  notBefore: number;
  expiresBefore: number;
  maxAgeUntil: number;
}

function numericDate(payload: JWTPayload, claim: 'exp' | 'nbf' | 'iat'): number | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  // RFC 7519 section 2 NumericDate; JSON's 1e400 parses to Infinity, which would never expire.
  // Number.isFinite is false for every value that is not a number (it does not convert).
  if (!Number.isFinite(value)) {
    throw invalidToken('ERR_JWT_CLAIM_INVALID', `'${claim}' claim must be a number`, mismatch(payload, claim, 'a number', value));
  }
  return value;
}

/** RFC 7519 section 4.1 and RFC 9068 section 2.2: these claims are strings whenever present. */
const STRING_CLAIMS = ['iss', 'sub', 'jti', 'client_id'] as const;

/** Refuses registered claims of the wrong type, so `payload.sub` is a string when it is there. */
function checkClaimTypes(payload: JWTPayload): void {
  for (const claim of STRING_CLAIMS) {
    const value = (payload as Record<string, unknown>)[claim];
    if (value !== undefined && typeof value !== 'string') {
      throw invalidToken('ERR_JWT_CLAIM_INVALID', `'${claim}' claim must be a string`, mismatch(payload, claim, 'a string', value));
    }
  }
  const { aud } = payload;
  if (aud !== undefined && typeof aud !== 'string' && !(Array.isArray(aud) && aud.every((value) => typeof value === 'string'))) {
    throw invalidToken('ERR_JWT_CLAIM_INVALID', "'aud' claim must be a string or an array of strings", mismatch(payload, 'aud', 'strings', aud));
  }
}

function missing(payload: JWTPayload, claim: string): never {
  throw invalidToken('ERR_JWT_CLAIM_MISSING', `missing required '${claim}' claim`, mismatch(payload, claim, undefined, undefined));
}

function audienceMatches(aud: string | string[] | undefined, expected: ReadonlySet<string>): boolean {
  if (typeof aud === 'string') return expected.has(aud);
  if (Array.isArray(aud)) {
    for (const value of aud) if (expected.has(value)) return true;
  }
  return false;
}

/** Checks the claims at `now` (epoch seconds); throws `InvalidTokenError`, else returns the validity window. */
export function checkClaims(payload: JWTPayload, policy: ClaimsPolicy, issuer: string, now: number): ValidityWindow {
  checkClaimTypes(payload);
  const exp = numericDate(payload, 'exp');
  const nbf = numericDate(payload, 'nbf');
  const iat = numericDate(payload, 'iat');
  if (exp === undefined && policy.introspected !== true) missing(payload, 'exp');
  if (iat === undefined && policy.maxTokenAge !== undefined) missing(payload, 'iat');
  for (const claim of policy.requiredClaims) if (!Object.hasOwn(payload, claim)) missing(payload, claim);

  if (policy.exactIssuer && payload.iss !== issuer && !(payload.iss === undefined && policy.introspected === true)) {
    if (payload.iss === undefined) missing(payload, 'iss');
    throw invalidToken('ERR_JWT_ISSUER', "unexpected 'iss' claim value", mismatch(payload, 'iss', issuer, payload.iss));
  }
  if (policy.audience !== undefined && !audienceMatches(payload.aud, policy.audience)) {
    if (payload.aud === undefined) missing(payload, 'aud');
    throw invalidToken('ERR_JWT_AUDIENCE', "unexpected 'aud' claim value", mismatch(payload, 'aud', [...policy.audience].join(' '), payload.aud));
  }

  const tolerance = policy.clockTolerance;
  const window: ValidityWindow = { notBefore: -Infinity, expiresBefore: exp === undefined ? Infinity : exp + tolerance, maxAgeUntil: Infinity };
  if (now >= window.expiresBefore) throw invalidToken('ERR_JWT_EXPIRED', "the token has expired ('exp' claim)", mismatch(payload, 'exp', `after ${now}`, exp));
  if (nbf !== undefined) {
    window.notBefore = nbf - tolerance;
    if (now < window.notBefore) throw invalidToken('ERR_JWT_NOT_YET_VALID', "the token is not valid yet ('nbf' claim)", mismatch(payload, 'nbf', `before ${now}`, nbf));
  }
  if (iat !== undefined) {
    window.notBefore = Math.max(window.notBefore, iat - tolerance);
    if (now < iat - tolerance) throw invalidToken('ERR_JWT_IAT_FUTURE', "the token is issued in the future ('iat' claim)", mismatch(payload, 'iat', `before ${now}`, iat));
    if (policy.maxTokenAge !== undefined) {
      window.maxAgeUntil = iat + policy.maxTokenAge + tolerance;
      if (now > window.maxAgeUntil) {
        throw invalidToken('ERR_JWT_TOO_OLD', "the token is too old ('iat' claim and maxTokenAge)", mismatch(payload, 'iat', `after ${now - policy.maxTokenAge - tolerance}`, iat));
      }
    }
  }
  return window;
}
