/**
 * Internal: the checks of a JWS protected header (RFC 7515 section 4, RFC 9068 section 2.1):
 * `alg` on the allowlist, no `crit`, `typ` as configured, `kid` a string. A header that passed is
 * remembered by its segment: tokens of one issuer share a handful of headers.
 */
import type { JWTHeaderParameters } from 'jose';
import type { AlgorithmSpec } from './algorithms.js';
import { decodeJsonObject } from './decode-segments.js';
import { deepFreeze } from './deep-freeze.js';
import { invalidToken, malformed } from './invalid-token.js';

/** A protected header that passed every header check, with what the key lookup and signature need. */
export interface CheckedHeader {
  readonly header: JWTHeaderParameters;
  readonly spec: AlgorithmSpec;
  readonly kid: string | undefined;
}

/** How many distinct validated headers are remembered. */
const HEADER_CACHE_SIZE = 64;

const ACCEPTED_TYP = new Set(['application/jwt', 'application/at+jwt']);
const STRICT_TYP = new Set(['application/at+jwt']);

function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.includes('/') ? lower : `application/${lower}`;
}

export class HeaderChecker {
  private readonly known = new Map<string, CheckedHeader>();
  private readonly acceptedTyp: ReadonlySet<string>;

  /** `allowed`: the allowlist, by `alg`; `strictTokenType`: `typ` must be `at+jwt`. */
  constructor(private readonly allowed: ReadonlyMap<string, AlgorithmSpec>, private readonly strictTokenType: boolean) {
    this.acceptedTyp = strictTokenType ? STRICT_TYP : ACCEPTED_TYP;
  }

  /** The checked header of a token's first segment; throws `InvalidTokenError`. */
  check(segment: string): CheckedHeader {
    const known = this.known.get(segment);
    if (known !== undefined) return known;
    const header = decodeJsonObject(segment);
    if (header === undefined) malformed('the token header is not a base64url-encoded JSON object');
    const { alg, kid, typ } = header;
    if (typeof alg !== 'string' || alg === '') malformed("the token header has no 'alg'");
    const spec = this.allowed.get(alg);
    if (spec === undefined) throw invalidToken('ERR_JWT_ALG_NOT_ALLOWED', "the token 'alg' is not allowed");
    if (header.crit !== undefined) throw invalidToken('ERR_JWT_CRIT', "the token has a 'crit' header parameter that is not understood");
    if (typ === undefined ? this.strictTokenType : typeof typ !== 'string' || !this.acceptedTyp.has(normalizeTyp(typ))) {
      throw invalidToken('ERR_JWT_TYP', this.strictTokenType
        ? "the token 'typ' header must be 'at+jwt'"
        : "the token 'typ' header must be 'at+jwt' or 'JWT'");
    }
    if (kid !== undefined && typeof kid !== 'string') malformed("the token 'kid' header must be a string");
    const checked: CheckedHeader = Object.freeze({ header: deepFreeze(header) as JWTHeaderParameters, spec, kid });
    if (this.known.size >= HEADER_CACHE_SIZE) this.known.clear();
    this.known.set(segment, checked);
    return checked;
  }

  clear(): void {
    this.known.clear();
  }
}
