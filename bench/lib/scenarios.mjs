// The inbound scenarios (S1-S5 of issue 5, S6 of issue 11, S7 of issue 15), their expected status and express-m2m's targets.
// checksEverySignature: every request needs a signature check, so the node:crypto calibration
// (a middleware doing only that) is the floor of any verifier there.
// Targets (issue 15) are ratios of express-m2m's req/s to a calibration app's req/s in the same
// run (medians over the rounds): `reference` names the calibration (noop: the no-op middleware;
// crypto: the signature check only; express-m2m: its own result) and `referenceScenario` the
// scenario it is taken from (S6's floor is S3's: one new ES256 signature check per request; S7's
// reference is express-m2m's own S2, the same tokens from one issuer).
export const SCENARIOS = {
  S1: { title: 'the same RS256 token on every request', expect: 200, reference: 'noop', target: 0.97 },
  S2: { title: 'a different RS256 token on every request', expect: 200, reference: 'crypto', target: 0.95, checksEverySignature: true },
  S3: { title: 'a different ES256 token on every request', expect: 200, reference: 'crypto', target: 0.95, checksEverySignature: true },
  S4: { title: 'tokens with a bad signature', expect: 401, reference: 'crypto', target: 0.98, checksEverySignature: true },
  S5: { title: 'no Authorization header', expect: 401, reference: 'noop', target: 0.98 },
  // DPoP (RFC 9449): the token is a verified-token cache hit; the floor is one ES256 check of the
  // proof. Contenders run with DPoP on; express-jwt has no DPoP and sits this one out.
  S6: {
    title: 'a DPoP-bound token reused, a new ES256 proof per request', expect: 200, reference: 'crypto', referenceScenario: 'S3', target: 0.90, checksEverySignature: true,
    dpop: true, without: ['express-jwt'],
  },
  // Several issuers: two local issuers, each with its own JWKS, new RS256 tokens alternating
  // between them. Neither peer trusts two issuers in one middleware, so only express-m2m runs it
  // (and the floor, whose key map holds both JWKS).
  S7: {
    title: 'new RS256 tokens of two trusted issuers, alternating', expect: 200, reference: 'express-m2m', referenceScenario: 'S2', target: 0.98, checksEverySignature: true,
    twoIssuers: true, without: ['noop', 'noop-imported', 'express-oauth2-jwt-bearer', 'express-jwt'],
  },
};

/**
 * The cost of loading the package (issue 15): the no-op calibration with express-m2m imported
 * (nothing of it used) against the plain no-op calibration, in S1. Not a scenario: a row of its own.
 */
export const IMPORT_COST = { contender: 'noop-imported', reference: 'noop', scenario: 'S1', target: 0.995 };

/** S8 (bench/outbound-steady.mjs): provider.fetch() on a warm token against plain fetch, calls/s. */
export const STEADY_OUTBOUND_TARGET = 0.97;

/** Whether `contender` runs in `scenario` (the import-cost app runs in its scenario only). */
export function runsIn(contender, scenario) {
  if (contender === IMPORT_COST.contender && scenario !== IMPORT_COST.scenario) return false;
  return !SCENARIOS[scenario].without?.includes(contender);
}

/** Ratios measured by the issue's author on the same machine kind (for reference only). */
export const ISSUE_REFERENCE = {
  'express-oauth2-jwt-bearer': { S1: 0.47, S2: 0.56, S3: 0.36, S4: 0.46, S5: 0.65 },
  'express-jwt': { S1: 0.30, S2: 0.32, S3: 0.24, S4: 0.27, S5: 0.80 },
};

export const CONTENDER_LABELS = {
  bare: 'bare Express 5',
  noop: 'no-op middleware (calibration)',
  crypto: 'node:crypto signature check only (calibration)',
  'noop-imported': 'no-op middleware, express-m2m imported (calibration)',
  'express-m2m': 'express-m2m',
  'express-oauth2-jwt-bearer': 'express-oauth2-jwt-bearer',
  'express-jwt': 'express-jwt + jwks-rsa',
};
