/**
 * Internal: `issuer.sign()` and `issuer.accessToken()`: which key and algorithm sign, which
 * header and claims defaults apply. Deliberately permissive: it mints whatever a test asks for.
 */
import { randomBytes } from 'node:crypto';
import { LOCAL_ISSUER_ALGORITHMS, isLocalIssuerAlgorithm } from './key-ring.js';
import type { KeyRing, RingKey } from './key-ring.js';
import { defaultAlgorithmForKey, signCompactJws } from './sign-jwt.js';
import type { AnySigningKey } from './sign-jwt.js';
import type { LocalAccessTokenOptions, LocalIssuerAlgorithm, LocalSignOptions } from './types.js';

/** What the signer needs to know about its issuer. */
export interface TokenSignerSettings {
  /** The issuer's default algorithm. */
  alg: LocalIssuerAlgorithm;
  /** `typ` header of minted tokens. */
  tokenType: string;
  /** Default `exp - iat`, in seconds. */
  tokenLifetime: number;
  /** The `iss` value. */
  issuer: string;
  /** Clock in seconds. */
  nowSeconds: () => number;
}

/** Mints tokens with the keys of a {@link KeyRing} (or any key a test passes). */
export class TokenSigner {
  constructor(
    private readonly ring: KeyRing,
    private readonly settings: TokenSignerSettings,
  ) {}

  /** The signing algorithm, key and default kid for the options. */
  private async choose(options: LocalSignOptions): Promise<{ alg: string; key: AnySigningKey | undefined; kid: string | undefined }> {
    const { alg, kid, key } = options;
    if (key !== undefined) {
      const signingAlg = alg ?? defaultAlgorithmForKey(key);
      // "Wrong key, right kid" and HS/RS confusion: by default the header names the issuer's key.
      const defaultKid = (isLocalIssuerAlgorithm(signingAlg) ? this.ring.peekCurrent(signingAlg) : undefined)?.kid
        ?? this.ring.peekCurrent(this.settings.alg)?.kid;
      return { alg: signingAlg, key, kid: kid ?? defaultKid };
    }
    if (alg === 'none') return { alg, key: undefined, kid };
    if (alg !== undefined && /^HS/.test(alg)) throw new TypeError(`sign: alg ${alg} needs "key" (the shared secret bytes)`);
    const byKid = kid === undefined ? undefined : this.ring.byKid(kid);
    let ringKey: RingKey;
    if (byKid && (alg === undefined || byKid.alg === alg)) ringKey = byKid;
    else {
      const wanted = alg ?? this.settings.alg;
      if (!isLocalIssuerAlgorithm(wanted)) {
        throw new TypeError(`sign: "alg" must be none, HS256/384/512 (with "key") or one of ${LOCAL_ISSUER_ALGORITHMS.join(', ')}`);
      }
      ringKey = await this.ring.currentForAsync(wanted);
    }
    return { alg: ringKey.alg, key: ringKey.privateKey, kid: kid ?? ringKey.kid };
  }

  /** See `LocalIssuer.sign`. */
  async sign(claims: Record<string, unknown>, options: LocalSignOptions = {}): Promise<string> {
    if (typeof claims !== 'object' || claims === null) throw new TypeError('sign: "claims" must be an object');
    if (typeof options !== 'object' || options === null) throw new TypeError('sign: the options must be an object');
    const { header = {}, expiresIn, noDefaults = false, rawHeader, rawPayload } = options;
    if (options.alg !== undefined && typeof options.alg !== 'string') throw new TypeError('sign: "alg" must be a string');
    if (rawHeader !== undefined && typeof rawHeader !== 'string') throw new TypeError('sign: "rawHeader" must be a string');
    if (rawPayload !== undefined && typeof rawPayload !== 'string') throw new TypeError('sign: "rawPayload" must be a string');
    if (expiresIn !== undefined && !Number.isFinite(expiresIn)) throw new TypeError('sign: "expiresIn" must be a number of seconds');
    const { alg, key, kid } = await this.choose(options);
    const fullHeader: Record<string, unknown> = { alg };
    if (kid !== undefined) fullHeader.kid = kid;
    if (!noDefaults) fullHeader.typ = this.settings.tokenType;
    Object.assign(fullHeader, header);
    const payload: Record<string, unknown> = { ...claims };
    if (!noDefaults) {
      const now = this.settings.nowSeconds();
      if (!('iss' in payload)) payload.iss = this.settings.issuer;
      if (!('iat' in payload)) payload.iat = now;
      const iat = typeof payload.iat === 'number' ? payload.iat : now;
      if (!('exp' in payload)) payload.exp = iat + (expiresIn ?? this.settings.tokenLifetime);
      if (!('jti' in payload)) payload.jti = randomBytes(12).toString('base64url');
    }
    return signCompactJws(rawHeader ?? fullHeader, rawPayload ?? payload, alg, key);
  }

  /** See `LocalIssuer.accessToken`: the claims the token endpoint mints. */
  async accessToken(options: LocalAccessTokenOptions): Promise<string> {
    if (typeof options !== 'object' || options === null) throw new TypeError('accessToken: the options must be an object');
    const { clientId = 'test-client', audience, scope = '', claims = {}, signOptions } = options;
    if (typeof audience !== 'string' && !(Array.isArray(audience) && audience.every((item) => typeof item === 'string'))) {
      throw new TypeError('accessToken: "audience" must be a string or an array of strings');
    }
    return this.sign(
      {
        iss: this.settings.issuer,
        sub: `${clientId}@clients`,
        aud: audience,
        scope: Array.isArray(scope) ? scope.join(' ') : scope,
        azp: clientId,
        client_id: clientId,
        gty: 'client-credentials',
        ...claims,
      },
      signOptions,
    );
  }
}
