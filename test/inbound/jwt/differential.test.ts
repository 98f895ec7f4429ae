/**
 * Issue 5's condition for the node:crypto fast path: the same large, varied set of tokens goes to
 * createVerifier and to jose's jwtVerify with the same key and the same policy, and both must
 * agree on accept/reject for every token (and on the payload when they accept).
 *
 * jose runs with the options that express our policy (exp required, maxTokenAge so that a future
 * iat is refused, same issuer/audience/tolerance/clock, same algorithm list). Checks jose does not
 * make at all (typ values, any crit, kid type) are left out of this set and tested in
 * verifier-checks.test.ts.
 */
import { constants, generateKeyPairSync, sign as cryptoSign, type KeyObject, type RSAPSSKeyPairKeyObjectOptions } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { createVerifier } from '../../../src/inbound/verifiers/jwt/create-verifier.js';
import { BearerError } from '../../../src/errors/bearer-errors.js';
import {
  ALL_ALGORITHMS, FixedKeySource, b64u, ecPair, ed25519Pair, rsaPair, secretKey, settle, signRaw, type KeyPair,
} from './support.js';

const NOW = 1_800_000_000;
const NOW_MS = NOW * 1000 + 123;
const ISS = 'https://issuer.example/';
const AUD = 'https://api.example';
const TOLERANCE = 5;
const MAX_AGE = 10 * 365 * 86400;

interface Signer {
  alg: string;
  signKey: KeyObject;
  verifyKey: KeyObject;
}

interface Case {
  label: string;
  token: string;
  key: KeyObject;
}

const ORDERS: Record<string, bigint> = {
  ES256: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551n,
  ES384: 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973n,
  ES512: 0x01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409n,
};

const baseClaims = () => ({ iss: ISS, aud: AUD, sub: 'svc@clients', iat: NOW - 60, exp: NOW + 600, scope: 'read:things' });

function bigToBytes(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
}

function withSignature(token: string, signature: Uint8Array | string): string {
  const cut = token.lastIndexOf('.');
  return `${token.slice(0, cut + 1)}${typeof signature === 'string' ? signature : b64u(signature)}`;
}

function segments(token: string): [string, string, string] {
  return token.split('.') as [string, string, string];
}

function flipChar(segment: string, index: number): string {
  const c = segment[index];
  return segment.slice(0, index) + (c === 'A' ? 'B' : 'A') + segment.slice(index + 1);
}

let signers: Signer[] = [];
let otherKeys: KeyObject[] = [];
const cases: Case[] = [];

beforeAll(async () => {
  const rsa = rsaPair();
  const rsa2 = rsaPair();
  const rsaSmall = rsaPair(1024);
  const pss: KeyPair = rsaPair();
  const p256 = ecPair('P-256');
  const p384 = ecPair('P-384');
  const p521 = ecPair('P-521');
  const ed = ed25519Pair();
  const hs = { 256: secretKey(32), 384: secretKey(48), 512: secretKey(64) };
  signers = [
    ...['RS256', 'RS384', 'RS512'].map((alg) => ({ alg, signKey: rsa.privateKey, verifyKey: rsa.publicKey })),
    ...['PS256', 'PS384', 'PS512'].map((alg) => ({ alg, signKey: pss.privateKey, verifyKey: pss.publicKey })),
    { alg: 'ES256', signKey: p256.privateKey, verifyKey: p256.publicKey },
    { alg: 'ES384', signKey: p384.privateKey, verifyKey: p384.publicKey },
    { alg: 'ES512', signKey: p521.privateKey, verifyKey: p521.publicKey },
    { alg: 'EdDSA', signKey: ed.privateKey, verifyKey: ed.publicKey },
    { alg: 'HS256', signKey: hs[256], verifyKey: hs[256] },
    { alg: 'HS384', signKey: hs[384], verifyKey: hs[384] },
    { alg: 'HS512', signKey: hs[512], verifyKey: hs[512] },
  ];
  otherKeys = [rsa2.publicKey, rsa.publicKey, p256.publicKey, p384.publicKey, ed.publicKey, hs[256], secretKey(32)];

  // An RSA-PSS-restricted key (SPKI only, no JWK form): refused by both.
  const pssOptions: RSAPSSKeyPairKeyObjectOptions = { modulusLength: 2048, hashAlgorithm: 'sha256', mgf1HashAlgorithm: 'sha256' };
  const restricted = generateKeyPairSync('rsa-pss', pssOptions);
  cases.push({ label: 'PS256 with an RSA-PSS-restricted key', token: signRaw('PS256', restricted.privateKey, { alg: 'PS256' }, baseClaims()), key: restricted.publicKey });
  // RSA keys under 2048 bits: refused by both even with a valid signature.
  cases.push({ label: 'RS256 with a 1024-bit key', token: signRaw('RS256', rsaSmall.privateKey, { alg: 'RS256' }, baseClaims()), key: rsaSmall.publicKey });

  for (const { alg, signKey, verifyKey } of signers) {
    const add = (label: string, token: string, key: KeyObject = verifyKey) => cases.push({ label: `${alg} ${label}`, token, key });
    const header = { alg, typ: 'JWT', kid: 'k1' };
    const valid = signRaw(alg, signKey, header, baseClaims());
    const [h, p, s] = segments(valid);
    const sig = Buffer.from(s, 'base64url');

    add('valid', valid);
    add('valid, signed by jose', await new SignJWT(baseClaims()).setProtectedHeader({ alg, typ: 'at+jwt' }).sign(signKey));
    add('valid, no typ', signRaw(alg, signKey, { alg }, baseClaims()));
    add('valid, jku/x5u/jwk/x5c headers ignored', signRaw(alg, signKey, {
      alg, jku: 'https://evil.example/jwks', x5u: 'https://evil.example/cert', jwk: { kty: 'oct', k: 'AAAA' }, x5c: ['AAAA'],
    }, baseClaims()));

    // Tampered bytes in each segment.
    for (const [index, segment] of [h, p, s].entries()) {
      for (const position of [0, Math.floor(segment.length / 2), segment.length - 2]) {
        const parts = [h, p, s];
        parts[index] = flipChar(segment, position);
        add(`segment ${index} char ${position} flipped`, parts.join('.'));
      }
    }
    // Signatures of the wrong length or value.
    add('signature truncated by one byte', withSignature(valid, sig.subarray(0, sig.length - 1)));
    add('signature missing its first byte', withSignature(valid, sig.subarray(1)));
    add('signature extended with 0x00', withSignature(valid, Buffer.concat([sig, Buffer.from([0])])));
    add('signature extended with 0xff', withSignature(valid, Buffer.concat([sig, Buffer.from([0xff])])));
    add('signature with a leading 0x00', withSignature(valid, Buffer.concat([Buffer.from([0]), sig])));
    add('signature all zeros', withSignature(valid, Buffer.alloc(sig.length)));
    add('signature all 0xff', withSignature(valid, Buffer.alloc(sig.length, 0xff)));
    add('signature reversed', withSignature(valid, Buffer.from(sig).reverse()));
    add('empty signature', withSignature(valid, ''));
    add('signature doubled', withSignature(valid, Buffer.concat([sig, sig])));
    // Encodings of the signature segment that jose's base64url decoder treats specially.
    if (s.length % 4 !== 0) add('signature with "=" padding', `${valid}${'='.repeat(4 - (s.length % 4))}`);
    add('signature with one "="', `${valid}=`);
    add('signature with "===="', `${valid}====`);
    add('signature with a space inside', withSignature(valid, `${s.slice(0, 10)} ${s.slice(10)}`));
    add('signature with a newline inside', withSignature(valid, `${s.slice(0, 10)}\n${s.slice(10)}`));
    add('signature with "+" and "/"', withSignature(valid, `+/${s.slice(2)}`));
    add('signature with "!"', withSignature(valid, `${s.slice(0, 5)}!${s.slice(6)}`));
    // Only when it is another spelling (a signature without "+", "/" or padding reads the same).
    if (sig.toString('base64') !== s) add('signature in standard base64', withSignature(valid, sig.toString('base64')));
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(s[s.length - 1] as string);
    add('signature with a non-canonical last character', withSignature(valid, s.slice(0, -1) + alphabet[last ^ 1]));
    add('signature with one extra character', `${valid}A`);
    add('signature with two extra characters', `${valid}AA`);
    // Structure.
    add('two segments', `${h}.${p}`);
    add('four segments', `${valid}.${s}`);
    add('empty payload segment', `${h}..${s}`);
    add('empty header segment', `.${p}.${s}`);
    add('padding on the header', `${h}=.${p}.${s}`);
    add('padding on the payload', `${h}.${p}=.${s}`);
    add('leading space', ` ${valid}`);
    add('trailing newline', `${valid}\n`);
    add('header in standard base64', `${Buffer.from(h, 'base64url').toString('base64')}.${p}.${s}`);
    // A lying alg header over a real signature, and every other alg.
    for (const other of ALL_ALGORITHMS) {
      if (other === alg) continue;
      add(`header claims ${other}`, `${b64u(JSON.stringify({ ...header, alg: other }))}.${p}.${s}`);
    }
    add('alg none, no signature', `${b64u(JSON.stringify({ alg: 'none' }))}.${p}.`);
    add('alg none, real signature', `${b64u(JSON.stringify({ alg: 'none' }))}.${p}.${s}`);
    add('alg NONE signed', signRaw(alg, signKey, { alg: 'NONE' }, baseClaims()));
    // Wrong keys (other type, other curve, other RSA key, secret vs public).
    for (const [index, key] of otherKeys.entries()) {
      if (key !== verifyKey) add(`verified with other key #${index}`, valid, key);
    }
    // Headers and payloads that are signed but malformed.
    const enc = new TextEncoder();
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    add('payload with a byte order mark', signRaw(alg, signKey, header, Buffer.concat([bom, enc.encode(JSON.stringify(baseClaims()))])));
    add('header with a byte order mark', signRaw(alg, signKey, Buffer.concat([bom, enc.encode(JSON.stringify(header))]), baseClaims()));
    add('payload with invalid UTF-8', signRaw(alg, signKey, header, Buffer.concat([enc.encode('{"iss":"'), Buffer.from([0xff, 0xfe]), enc.encode(`","x":1}`)])));
    add('header with invalid UTF-8', signRaw(alg, signKey, Buffer.concat([enc.encode(`{"alg":"${alg}","x":"`), Buffer.from([0xc3]), enc.encode('"}')]), baseClaims()));
    for (const [name, body] of [['array', '[]'], ['null', 'null'], ['string', '"x"'], ['number', '42'], ['truncated JSON', '{"exp":1'], ['empty', '']] as const) {
      add(`payload ${name}`, signRaw(alg, signKey, header, enc.encode(body)));
      add(`header ${name}`, signRaw(alg, signKey, enc.encode(body), baseClaims()));
    }
    add('exp 1e400 (Infinity)', signRaw(alg, signKey, header, enc.encode(`{"iss":"${ISS}","aud":"${AUD}","iat":${NOW},"exp":1e400}`)));
    add('exp -1e400', signRaw(alg, signKey, header, enc.encode(`{"iss":"${ISS}","aud":"${AUD}","iat":${NOW},"exp":-1e400}`)));
    add('iat -1e400', signRaw(alg, signKey, header, enc.encode(`{"iss":"${ISS}","aud":"${AUD}","iat":-1e400,"exp":${NOW + 60}}`)));
    add('nbf 1e400', signRaw(alg, signKey, header, enc.encode(`{"iss":"${ISS}","aud":"${AUD}","iat":${NOW},"nbf":1e400,"exp":${NOW + 60}}`)));
    add('deeply nested claim', signRaw(alg, signKey, header, enc.encode(
      `{"iss":"${ISS}","aud":"${AUD}","iat":${NOW},"exp":${NOW + 60},"x":${'['.repeat(2000)}${']'.repeat(2000)}}`,
    )));
    add('header without alg', signRaw(alg, signKey, { typ: 'JWT' }, baseClaims()));
    add('header alg empty', signRaw(alg, signKey, { alg: '' }, baseClaims()));
    add('header alg number', signRaw(alg, signKey, { alg: 256 }, baseClaims()));
    add('unknown crit', signRaw(alg, signKey, { alg, crit: ['exp'], exp: 1 }, baseClaims()));
    add('payload with duplicate keys (last wins)', signRaw(alg, signKey, header, enc.encode(
      `{"iss":"https://evil.example/","iss":"${ISS}","aud":"${AUD}","exp":${NOW + 600},"iat":${NOW}}`,
    )));
    add('payload with __proto__', signRaw(alg, signKey, header, enc.encode(
      `{"__proto__":{"admin":true},"iss":"${ISS}","aud":"${AUD}","exp":${NOW + 600},"iat":${NOW}}`,
    )));
    // Claims, signed correctly.
    const claims = (patch: Record<string, unknown>) => {
      const c: Record<string, unknown> = { ...baseClaims(), ...patch };
      for (const [k, v] of Object.entries(patch)) if (v === undefined) delete c[k];
      return signRaw(alg, signKey, header, c);
    };
    for (const [label, patch] of [
      ['exp at now - tolerance - 1', { exp: NOW - TOLERANCE - 1 }],
      ['exp at now - tolerance', { exp: NOW - TOLERANCE }],
      ['exp at now - tolerance + 1', { exp: NOW - TOLERANCE + 1 }],
      ['exp fractional', { exp: NOW + 0.5 }],
      ['exp missing', { exp: undefined }],
      ['exp a string', { exp: String(NOW + 600) }],
      ['exp null', { exp: null }],
      ['nbf at now + tolerance', { nbf: NOW + TOLERANCE }],
      ['nbf at now + tolerance + 1', { nbf: NOW + TOLERANCE + 1 }],
      ['nbf a string', { nbf: 'soon' }],
      ['iat at now + tolerance', { iat: NOW + TOLERANCE }],
      ['iat at now + tolerance + 1', { iat: NOW + TOLERANCE + 1 }],
      ['iat at the age limit', { iat: NOW - MAX_AGE - TOLERANCE }],
      ['iat past the age limit', { iat: NOW - MAX_AGE - TOLERANCE - 1 }],
      ['iat missing', { iat: undefined }],
      ['iat a string', { iat: 'now' }],
      ['iss other', { iss: 'https://evil.example/' }],
      ['iss without trailing slash', { iss: ISS.slice(0, -1) }],
      ['iss missing', { iss: undefined }],
      ['iss an array', { iss: [ISS] }],
      ['aud other', { aud: 'https://other.example' }],
      ['aud array containing ours', { aud: ['https://other.example', AUD] }],
      ['aud array without ours', { aud: ['https://other.example'] }],
      ['aud empty array', { aud: [] }],
      ['aud missing', { aud: undefined }],
      ['aud a number', { aud: 1 }],
      ['aud nested array', { aud: [[AUD]] }],
    ] as const) add(`claims: ${label}`, claims(patch as Record<string, unknown>));

    if (alg.startsWith('ES')) {
      const order = ORDERS[alg] as bigint;
      const half = sig.length / 2;
      const r = sig.subarray(0, half);
      const sValue = BigInt(`0x${sig.subarray(half).toString('hex')}`);
      add('high-S signature', withSignature(valid, Buffer.concat([r, bigToBytes(order - sValue, half)])));
      add('s = 0', withSignature(valid, Buffer.concat([r, Buffer.alloc(half)])));
      add('r = 0', withSignature(valid, Buffer.concat([Buffer.alloc(half), sig.subarray(half)])));
      add('s + n (overflowing the field)', withSignature(valid, Buffer.concat([r, bigToBytes((sValue + order) % (1n << BigInt(half * 8)), half)])));
      const digest = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' }[alg] as string;
      add('DER-encoded signature', withSignature(valid, cryptoSign(digest, Buffer.from(`${h}.${p}`), { key: signKey, dsaEncoding: 'der' })));
    }
    if (alg.startsWith('PS')) {
      add('salt length 0', signRaw(alg, signKey, header, baseClaims(), 0));
      add('maximum salt length', signRaw(alg, signKey, header, baseClaims(), constants.RSA_PSS_SALTLEN_MAX_SIGN));
      add('PKCS#1 v1.5 signature under a PS header', withSignature(valid, signRaw(`RS${alg.slice(2)}`, signKey, header, baseClaims()).split('.')[2] as string));
    }
    if (alg.startsWith('RS')) {
      add('PSS signature under an RS header', withSignature(valid, signRaw(`PS${alg.slice(2)}`, signKey, header, baseClaims()).split('.')[2] as string));
      const modulus = BigInt(`0x${Buffer.from((verifyKey.export({ format: 'jwk' }) as { n: string }).n, 'base64url').toString('hex')}`);
      add('signature equal to the modulus', withSignature(valid, bigToBytes(modulus, sig.length)));
    }
  }
}, 120_000);

function ourVerifier(key: KeyObject, cache: boolean) {
  return createVerifier({
    issuer: ISS,
    audience: AUD,
    keySource: new FixedKeySource(new Map([['*', key]])),
    algorithms: ALL_ALGORITHMS,
    clockTolerance: TOLERANCE,
    maxTokenAge: MAX_AGE,
    verifiedTokenCache: cache ? {} : false,
    now: () => NOW_MS,
  });
}

/**
 * Where express-m2m is stricter than jose on purpose: every such token must be refused by us (and
 * is accepted by jose 6). One spelling per token (RFC 7515 base64url without padding, canonical
 * last character, no byte order mark); NumericDates that are numbers (JSON's 1e400 is Infinity).
 */
const STRICTER: ReadonlyArray<RegExp> = [
  /^\w+ signature with "=" padding$/,
  /^\w+ signature with one "="$/,
  /^\w+ signature with "===="$/,
  /^\w+ signature with a space inside$/,
  /^\w+ signature with a newline inside$/,
  /^\w+ signature with a non-canonical last character$/,
  /^\w+ padding on the (header|payload)$/,
  /^\w+ (payload|header) with a byte order mark$/,
  /^\w+ signature in standard base64$/,
  /^\w+ trailing newline$/,
  /^\w+ exp 1e400 \(Infinity\)$/,
];
const stricter = (label: string): boolean => STRICTER.some((pattern) => pattern.test(label));

describe('differential: node:crypto fast path vs jose jwtVerify', () => {
  test('both agree on every token of a large, varied set (but where express-m2m is stricter on purpose)', async () => {
    expect(cases.length).toBeGreaterThan(900);
    const disagreements: string[] = [];
    const crashes: string[] = [];
    let accepted = 0;
    for (const { label, token, key } of cases) {
      const ours = await settle(() => ourVerifier(key, false).verify(token));
      const theirs = await settle(() => jwtVerify(token, key, {
        algorithms: ALL_ALGORITHMS,
        issuer: ISS,
        audience: AUD,
        requiredClaims: ['exp'],
        clockTolerance: TOLERANCE,
        maxTokenAge: MAX_AGE,
        currentDate: new Date(NOW_MS),
      }));
      if (!ours.ok && !(ours.error instanceof BearerError && ours.error.status === 401)) {
        crashes.push(`${label}: ${String(ours.error)}`);
      }
      if (stricter(label)) {
        if (ours.ok) disagreements.push(`${label}: ours accepted a token it must refuse`);
        continue;
      }
      if (ours.ok !== theirs.ok) {
        disagreements.push(`${label}: ours ${ours.ok ? 'accepted' : `rejected (${String(ours.error)})`}, jose ${theirs.ok ? 'accepted' : `rejected (${String(theirs.error)})`}`);
      } else if (ours.ok && theirs.ok) {
        accepted += 1;
        if (JSON.stringify(ours.value.payload) !== JSON.stringify(theirs.value.payload)) disagreements.push(`${label}: payloads differ`);
        if (JSON.stringify(ours.value.header) !== JSON.stringify(theirs.value.protectedHeader)) disagreements.push(`${label}: headers differ`);
      }
    }
    expect(disagreements).toEqual([]);
    expect(crashes).toEqual([]);
    // The set exercises both outcomes in quantity.
    expect(accepted).toBeGreaterThan(150);
    expect(cases.length - accepted).toBeGreaterThan(700);
  }, 120_000);

  test('the cached path gives the same outcome as the uncached one for every token', async () => {
    const differences: string[] = [];
    for (const { label, token, key } of cases) {
      const verifier = ourVerifier(key, true);
      const first = await settle(() => verifier.verify(token));
      const second = await settle(() => verifier.verify(token));
      if (first.ok !== second.ok) differences.push(label);
      if (first.ok && second.ok && first.value !== second.value) differences.push(`${label}: not the same object`);
    }
    expect(differences).toEqual([]);
  }, 120_000);
});
