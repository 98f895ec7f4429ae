/**
 * The DPoP proof check of RFC 9449 section 4.3 (and 7.1 with an access token), transport-neutral:
 * written once for the resource server's binding check and the local issuer's token endpoint.
 * `node:crypto` only (the signature check of the JWT verifier), no jose on the hot path.
 *
 * What a client sends the same way every time, the proof's header (`typ`, `alg`, `jwk`), is
 * parsed, imported and thumbprinted once and remembered (bounded); the claims and the signature
 * are checked for every proof. The nonce and the replay record are the caller's next steps
 * (`proof-checks.ts`): they need state.
 */
import { createHash } from 'node:crypto';
import { DpopProofError } from '../errors/dpop-errors.js';
import { withoutStack } from '../errors/without-stack.js';
import { ALGORITHMS, type AlgorithmSpec } from '../inbound/verifiers/jwt/algorithms.js';
import { decodeBase64url, decodeJsonObject } from '../inbound/verifiers/jwt/decode-segments.js';
import { verifySignature } from '../inbound/verifiers/jwt/verify-signature.js';
import { shown } from '../inbound/rejection-detail.js';
import { importJwk } from '../keys/import-jwk.js';
import { keyMismatch } from '../keys/algorithms.js';
import type { KeyObject } from 'node:crypto';
import { htuProblem, normaliseHttpUri } from './htu.js';
import { jwkThumbprint } from './jwk-thumbprint.js';

/** How proofs are checked: the algorithms, the window and the clock. */
export interface ProofPolicy {
  /** The `alg` values accepted (asymmetric only). */
  readonly algorithms: ReadonlySet<string>;
  /** Oldest accepted proof, in seconds after its `iat`. */
  readonly maxAge: number;
  /** Seconds of clock difference tolerated (both ways) on `iat`. */
  readonly clockTolerance: number;
  /** Largest accepted proof, in characters. */
  readonly maxProofSize: number;
  /** The clock, in milliseconds. */
  readonly now: () => number;
}

/** What the proof must be about. */
export interface ProofExpectations {
  /** The request method (`htm`). */
  readonly method: string;
  /** The absolute request URL (`htu` is compared with it without its query and fragment). */
  readonly url: string;
  /**
   * The thumbprint the proof's key must have (the token's `cnf.jkt`), when known: checked before
   * the signature, so a proof of another key costs no signature check.
   */
  readonly jkt?: string | undefined;
  /** The access token presented with the proof (`ath`), when there is one (not at a token endpoint). */
  readonly accessToken?: string | undefined;
}

/** A proof that passed every stateless check. */
export interface CheckedProof {
  /** RFC 7638 thumbprint of the proof's key. */
  readonly jkt: string;
  /** The proof's `jti`. */
  readonly jti: string;
  /** The proof's `nonce`, when it has one. */
  readonly nonce: string | undefined;
  /** Until when (milliseconds) the proof would be accepted: its replay record must live that long. */
  readonly acceptedUntil: number;
  /** The proof's public key as a JWK (its public members only, as sent). */
  readonly jwk: Readonly<Record<string, unknown>>;
}

/** Largest RSA modulus and public exponent of a proof key: a client's key costs the server a signature check per request. */
const MAX_RSA_BITS = 8192;
const MAX_RSA_EXPONENT = 2n ** 32n;

/** Why an RSA key would make every signature check needlessly slow (a huge modulus or exponent), if it would. */
function costlyRsaKey(key: KeyObject): string | undefined {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') return undefined;
  if ((details?.modulusLength ?? 0) > MAX_RSA_BITS) return `the RSA key has more than ${MAX_RSA_BITS} bits`;
  if ((details?.publicExponent ?? 0n) > MAX_RSA_EXPONENT) return 'the RSA public exponent is larger than 2^32';
  return undefined;
}

/** What is remembered of a proof header. */
interface CheckedHeader {
  readonly spec: AlgorithmSpec;
  readonly key: KeyObject;
  readonly jkt: string;
  readonly jwk: Readonly<Record<string, unknown>>;
}

const TYPES: ReadonlySet<string> = new Set(['dpop+jwt', 'application/dpop+jwt']);
const MAX_JTI_LENGTH = 256;
/** Proof headers remembered (a client's header is the same for every proof it makes). */
const MAX_HEADERS = 1000;

function refuse(description: string, code: string, claim?: string, expected?: unknown, received?: unknown): never {
  const detail = claim === undefined ? undefined : {
    claim, ...(expected === undefined ? {} : { expected: shown(expected) }), ...(received === undefined ? {} : { received: shown(received) }),
  };
  throw withoutStack(() => new DpopProofError(description, code, detail === undefined ? {} : { detail }));
}

/** `base64url(SHA-256(ASCII(token)))`: the `ath` of a proof made for `token` (RFC 9449 section 4.2). */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

/**
 * Checks DPoP proofs against one policy. `check` throws a {@link DpopProofError} (401
 * `invalid_dpop_proof`) naming the first rule the proof breaks.
 */
export class DpopProofVerifier {
  private readonly policy: ProofPolicy;
  private readonly headers = new Map<string, CheckedHeader>();

  constructor(policy: ProofPolicy) {
    this.policy = policy;
  }

  /** The stateless checks of RFC 9449 section 4.3 (points 2 to 9, 11 and 12; not the nonce, not the replay). */
  check(proof: string, expected: ProofExpectations): CheckedProof {
    const { policy } = this;
    if (proof.length > policy.maxProofSize) refuse(`the DPoP proof is larger than ${policy.maxProofSize} characters`, 'ERR_DPOP_PROOF_TOO_LARGE');
    const firstDot = proof.indexOf('.');
    const secondDot = firstDot === -1 ? -1 : proof.indexOf('.', firstDot + 1);
    if (firstDot <= 0 || secondDot === -1 || proof.indexOf('.', secondDot + 1) !== -1) {
      refuse('the DPoP proof is not a compact JWS (three base64url segments)', 'ERR_DPOP_PROOF_MALFORMED');
    }
    const headerSegment = proof.slice(0, firstDot);
    const header = this.header(headerSegment);
    if (expected.jkt !== undefined && header.jkt !== expected.jkt) {
      refuse('the DPoP proof is signed by another key than the one the token is bound to (cnf.jkt)', 'ERR_DPOP_KEY_MISMATCH', 'cnf.jkt', expected.jkt, header.jkt);
    }
    const payload = decodeJsonObject(proof.slice(firstDot + 1, secondDot));
    if (payload === undefined) refuse('the DPoP proof payload is not a base64url-encoded JSON object', 'ERR_DPOP_PROOF_MALFORMED');
    const signature = decodeBase64url(proof.slice(secondDot + 1));
    if (signature === undefined || signature.length === 0) refuse('the DPoP proof signature is not base64url', 'ERR_DPOP_PROOF_MALFORMED');
    if (!verifySignature(header.spec, Buffer.from(proof.slice(0, secondDot), 'ascii'), signature, header.key)) {
      refuse('the DPoP proof signature does not verify with its jwk', 'ERR_DPOP_SIGNATURE');
    }

    const { jti, htm, htu, iat, ath, nonce } = payload;
    for (const [name, value] of [['jti', jti], ['htm', htm], ['htu', htu], ['iat', iat]] as const) {
      if (value === undefined) refuse(`the DPoP proof has no '${name}' claim`, 'ERR_DPOP_CLAIM_MISSING', name);
    }
    if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) {
      refuse(`the 'jti' claim of the DPoP proof must be a string of 1 to ${MAX_JTI_LENGTH} characters`, 'ERR_DPOP_PROOF_MALFORMED', 'jti');
    }
    if (typeof htm !== 'string') refuse("the 'htm' claim of the DPoP proof must be a string", 'ERR_DPOP_PROOF_MALFORMED', 'htm');
    // RFC 9110 section 9.1: the method is case-sensitive; `get` is not `GET`.
    if (htm !== expected.method) refuse("the 'htm' claim of the DPoP proof is not the request method", 'ERR_DPOP_HTM', 'htm', expected.method, htm);
    if (typeof htu !== 'string') refuse("the 'htu' claim of the DPoP proof must be a string", 'ERR_DPOP_PROOF_MALFORMED', 'htu');
    const problem = htuProblem(htu);
    if (problem !== undefined) refuse(`${problem} (RFC 9449 section 4.2)`, 'ERR_DPOP_HTU', 'htu', undefined, htu);
    const target = normaliseHttpUri(expected.url);
    if (target === undefined || normaliseHttpUri(htu) !== target) {
      refuse("the 'htu' claim of the DPoP proof is not the request URL", 'ERR_DPOP_HTU', 'htu', target ?? expected.url, htu);
    }
    if (typeof iat !== 'number' || !Number.isFinite(iat)) refuse("the 'iat' claim of the DPoP proof must be a number", 'ERR_DPOP_PROOF_MALFORMED', 'iat');
    const now = policy.now() / 1000;
    if (iat > now + policy.clockTolerance) refuse("the DPoP proof's 'iat' is in the future", 'ERR_DPOP_IAT', 'iat', Math.floor(now), iat);
    if (iat < now - policy.maxAge - policy.clockTolerance) refuse('the DPoP proof is too old', 'ERR_DPOP_IAT', 'iat', Math.floor(now), iat);
    if (nonce !== undefined && (typeof nonce !== 'string' || nonce === '')) {
      refuse("the 'nonce' claim of the DPoP proof must be a non-empty string", 'ERR_DPOP_PROOF_MALFORMED', 'nonce');
    }
    if (expected.accessToken !== undefined) {
      if (ath === undefined) refuse("the DPoP proof has no 'ath' claim (the hash of the access token)", 'ERR_DPOP_CLAIM_MISSING', 'ath');
      if (typeof ath !== 'string' || ath !== accessTokenHash(expected.accessToken)) {
        refuse("the 'ath' claim of the DPoP proof is not the hash of the access token", 'ERR_DPOP_ATH', 'ath');
      }
    }
    return {
      jkt: header.jkt,
      jti,
      nonce: nonce as string | undefined,
      acceptedUntil: Math.ceil((iat + policy.maxAge + policy.clockTolerance) * 1000),
      jwk: header.jwk,
    };
  }

  /** The proof header's algorithm, key and thumbprint, checked (RFC 9449 section 4.3 points 3 to 7). */
  private header(segment: string): CheckedHeader {
    const known = this.headers.get(segment);
    if (known !== undefined) return known;
    const header = decodeJsonObject(segment);
    if (header === undefined) refuse('the DPoP proof header is not a base64url-encoded JSON object', 'ERR_DPOP_PROOF_MALFORMED');
    const { typ, alg, jwk, crit } = header;
    if (typeof typ !== 'string' || !TYPES.has(typ.toLowerCase())) {
      refuse("the DPoP proof's 'typ' header must be 'dpop+jwt'", 'ERR_DPOP_TYP', 'typ', 'dpop+jwt', typ);
    }
    if (crit !== undefined) refuse("the DPoP proof has a 'crit' header this server does not understand", 'ERR_DPOP_PROOF_MALFORMED', 'crit');
    const spec = typeof alg === 'string' && this.policy.algorithms.has(alg) ? ALGORITHMS.get(alg) : undefined;
    if (spec === undefined || spec.family === 'HS') {
      refuse(`the DPoP proof's 'alg' must be one of ${[...this.policy.algorithms].join(', ')}`, 'ERR_DPOP_ALG', 'alg', [...this.policy.algorithms].join(' '), alg);
    }
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) refuse("the DPoP proof has no 'jwk' header (a JSON object)", 'ERR_DPOP_JWK', 'jwk');
    const imported = importJwk(jwk);
    if (!imported.ok) refuse(`the DPoP proof's 'jwk' cannot be used: ${imported.reason}`, 'ERR_DPOP_JWK', 'jwk');
    const mismatch = keyMismatch(imported.entry.key, spec.alg);
    if (mismatch !== undefined) refuse(`the DPoP proof's 'alg' does not fit its 'jwk': ${mismatch}`, 'ERR_DPOP_ALG', 'alg');
    // RFC 7517 section 4.4: a jwk that names its algorithm is for that one only.
    if (!imported.entry.algorithms.has(spec.alg)) {
      refuse(`the DPoP proof's 'alg' is not the 'alg' its 'jwk' declares`, 'ERR_DPOP_ALG', 'alg', imported.entry.declaredAlg, spec.alg);
    }
    const costly = costlyRsaKey(imported.entry.key);
    if (costly !== undefined) refuse(`the DPoP proof's 'jwk' cannot be used: ${costly}`, 'ERR_DPOP_JWK', 'jwk');
    const publicJwk = jwk as Record<string, unknown>;
    let jkt: string;
    try {
      jkt = jwkThumbprint(publicJwk);
    } catch {
      refuse("the DPoP proof's 'jwk' has no RFC 7638 thumbprint", 'ERR_DPOP_JWK', 'jwk');
    }
    const checked: CheckedHeader = Object.freeze({ spec, key: imported.entry.key, jkt, jwk: Object.freeze({ ...publicJwk }) });
    if (this.headers.size >= MAX_HEADERS) this.headers.clear();
    this.headers.set(segment, checked);
    return checked;
  }
}
