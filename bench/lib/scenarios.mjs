// The five inbound scenarios of issue 5, their expected status and express-m2m's targets.
// checksEverySignature: every request needs a signature check, so the node:crypto calibration
// (a middleware doing only that) is the floor of any verifier there.
export const SCENARIOS = {
  S1: { title: 'the same RS256 token on every request', expect: 200, target: 0.95 },
  S2: { title: 'a different RS256 token on every request', expect: 200, target: 0.75, checksEverySignature: true },
  S3: { title: 'a different ES256 token on every request', expect: 200, target: 0.55, checksEverySignature: true },
  S4: { title: 'tokens with a bad signature', expect: 401, target: 0.75, checksEverySignature: true },
  S5: { title: 'no Authorization header', expect: 401, target: 0.95 },
};

/** Ratios measured by the issue's author on the same machine kind (for reference only). */
export const ISSUE_REFERENCE = {
  'express-oauth2-jwt-bearer': { S1: 0.47, S2: 0.56, S3: 0.36, S4: 0.46, S5: 0.65 },
  'express-jwt': { S1: 0.30, S2: 0.32, S3: 0.24, S4: 0.27, S5: 0.80 },
};

export const CONTENDER_LABELS = {
  bare: 'bare Express 5',
  noop: 'no-op middleware (calibration)',
  crypto: 'node:crypto signature check only (calibration)',
  'express-m2m': 'express-m2m',
  'express-oauth2-jwt-bearer': 'express-oauth2-jwt-bearer',
  'express-jwt': 'express-jwt + jwks-rsa',
};
