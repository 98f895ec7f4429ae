// Pre-minted tokens of the scenarios. Minting happens once per run, before any load.
import { createPrivateKey, createPublicKey, createHash, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Runs `fn(i)` for i in [0, n) with at most `limit` promises in flight. */
async function pool(n, limit, fn) {
  const out = new Array(n);
  let i = 0;
  const worker = async () => {
    while (i < n) {
      const k = i++;
      out[k] = await fn(k);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  return out;
}

/** Same header and signature, different payload (a new jti): a well-formed token whose signature does not match. */
function tamper(token, i) {
  const [h, p, s] = token.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  payload.jti = `tampered-${i}-${payload.jti ?? ''}`;
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
}

/**
 * Mints the tokens of every scenario and writes the pools to files in `dir`. With `second` (a
 * second issuer, S7): a pool alternating between the first issuer's S2 tokens and as many of the
 * second issuer's.
 * @returns {Promise<{ s1: string, files: Record<string,string>, counts: Record<string,number>, mintSeconds: number }>}
 */
export async function mintScenarioTokens(issuer, { audience, count, expiresIn, dir, log, second }) {
  const started = Date.now();
  const claims = (i) => ({ sub: 'bench-client@clients', aud: audience, scope: 'read:data', azp: 'bench-client', n: i });
  const s1 = await issuer.sign(claims(-1), { alg: 'RS256', expiresIn });
  log?.(`minting ${count} RS256 and ${count} ES256 tokens...`);
  const rs = await pool(count, 64, (i) => issuer.sign(claims(i), { alg: 'RS256', expiresIn }));
  const es = await pool(count, 64, (i) => issuer.sign(claims(i), { alg: 'ES256', expiresIn }));
  const bad = rs.map(tamper);
  const files = {};
  for (const [name, list] of Object.entries({ S2: rs, S3: es, S4: bad })) {
    files[name] = join(dir, `tokens-${name}.txt`);
    writeFileSync(files[name], list.join('\n'));
  }
  // S6: one ES256 token bound (cnf.jkt) to an ES256 DPoP key; the load generator makes the proofs.
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const { kty, crv, x, y } = createPublicKey(createPrivateKey(pair.privateKey)).export({ format: 'jwk' });
  const jkt = createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
  const dpopToken = await issuer.sign({ ...claims(-6), cnf: { jkt } }, { alg: 'ES256', expiresIn });
  files.S6 = join(dir, 'dpop-S6.json');
  writeFileSync(files.S6, JSON.stringify({ token: dpopToken, privateKeyPem: pair.privateKey, jwk: { kty, crv, x, y } }));
  const counts = { S1: 1, S2: rs.length, S3: es.length, S4: bad.length, S5: 0, S6: 1 };
  if (second) {
    const half = Math.ceil(count / 2);
    log?.(`minting ${half} RS256 tokens of the second issuer...`);
    const other = await pool(half, 64, (i) => second.sign(claims(i), { alg: 'RS256', expiresIn }));
    const alternating = other.flatMap((t, i) => [rs[i], t]).slice(0, count);
    files.S7 = join(dir, 'tokens-S7.txt');
    writeFileSync(files.S7, alternating.join('\n'));
    counts.S7 = alternating.length;
  }
  const mintSeconds = (Date.now() - started) / 1000;
  return { s1, files, counts, mintSeconds, sampleS2: rs[0], sampleS3: es[0] };
}
