/**
 * Internal: the signed introspection answer of RFC 9701 (JWT Response for OAuth Token
 * Introspection): a JWS whose `typ` is `token-introspection+jwt`, signed with one of the
 * issuer's keys (from the same key source as its JWTs, same `alg` allowlist, no `crit`), `iss`
 * the issuer, `aud` this resource server's client id, an `iat`, and the answer itself in the
 * `token_introspection` claim. Anything else is an answer that cannot be trusted: an
 * {@link UpstreamError} (the request gets a 503), never a verdict on the token.
 */
import type { KeyObject } from 'node:crypto';
import { BearerError, KeySourceUnavailableError } from '../../../errors/bearer-errors.js';
import type { KeySource } from '../../../keys/types.js';
import { isPromiseLike } from '../../../lib/is-promise-like.js';
import { UpstreamError } from '../../../transport/fetch-json.js';
import type { AlgorithmSpec } from '../jwt/algorithms.js';
import { decodeBase64url, decodeJsonObject } from '../jwt/decode-segments.js';
import { verifySignature } from '../jwt/verify-signature.js';

/** What the answer is checked against. */
export interface ResponseJwtPolicy {
  endpoint: string;
  keySource: KeySource;
  /** The `alg` allowlist of the issuer's tokens. */
  algorithms: ReadonlyMap<string, AlgorithmSpec>;
  /** The expected `iss`. */
  issuer: string;
  /** The expected `aud`: the resource server's client id. */
  clientId: string;
  clockTolerance: number;
}

const ACCEPTED_TYP = new Set(['token-introspection+jwt', 'application/token-introspection+jwt']);

/** The answer is not to be trusted. */
function refuse(policy: ResponseJwtPolicy, why: string, cause?: unknown): never {
  throw new UpstreamError(`${policy.endpoint} answered a signed introspection response that ${why}`, undefined, cause);
}

/** The `token_introspection` object of a verified answer. Rejects with an `UpstreamError` (or the key source's 503). */
export async function verifyResponseJwt(jwt: string, policy: ResponseJwtPolicy, nowMs: number): Promise<Record<string, unknown>> {
  const segments = jwt.split('.');
  if (segments.length !== 3) refuse(policy, 'is not a JWS in compact serialization');
  const [headerSegment, payloadSegment, signatureSegment] = segments as [string, string, string];
  const header = decodeJsonObject(headerSegment);
  if (header === undefined) refuse(policy, 'has no JSON header');
  const { alg, kid, typ } = header;
  const spec = typeof alg === 'string' ? policy.algorithms.get(alg) : undefined;
  if (spec === undefined) refuse(policy, `is signed with an algorithm that is not allowed (${JSON.stringify(String(alg).slice(0, 20))})`);
  if (header.crit !== undefined) refuse(policy, "has a 'crit' header parameter");
  if (typeof typ !== 'string' || !ACCEPTED_TYP.has(typ.toLowerCase())) refuse(policy, "does not have the 'typ' token-introspection+jwt");
  if (kid !== undefined && typeof kid !== 'string') refuse(policy, "has a 'kid' that is not a string");
  let key: KeyObject;
  try {
    const found = policy.keySource.getKey({ alg: spec.alg, kid }, nowMs);
    key = isPromiseLike(found) ? await found : found;
  } catch (error) {
    // The issuer's keys cannot be had: the key source's own 503; no key fits: an untrusted answer.
    if (error instanceof KeySourceUnavailableError || !(error instanceof BearerError)) throw error;
    refuse(policy, `has no key of the issuer that fits (${error.message})`, error);
  }
  const signature = decodeBase64url(signatureSegment);
  if (signature === undefined || !verifySignature(spec, Buffer.from(`${headerSegment}.${payloadSegment}`, 'latin1'), signature, key)) {
    refuse(policy, "is not signed with the issuer's key");
  }
  const payload = decodeJsonObject(payloadSegment);
  if (payload === undefined) refuse(policy, 'has no JSON payload');
  if (payload.iss !== policy.issuer) refuse(policy, `names the issuer ${JSON.stringify(String(payload.iss).slice(0, 100))}, not the configured one`);
  const { aud } = payload;
  if (!(aud === policy.clientId || (Array.isArray(aud) && aud.includes(policy.clientId)))) refuse(policy, 'is not addressed to this resource server (aud)');
  const now = Math.floor(nowMs / 1000);
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) refuse(policy, "has no numeric 'iat'");
  if (payload.iat > now + policy.clockTolerance) refuse(policy, 'is issued in the future (iat)');
  if (typeof payload.exp === 'number' && payload.exp + policy.clockTolerance <= now) refuse(policy, 'has expired (exp)');
  const inner = payload.token_introspection;
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) refuse(policy, "has no 'token_introspection' object");
  return inner as Record<string, unknown>;
}
