// A minimal stand-in for `createLocalIssuer` (express-m2m/testing), used by the benchmark only
// when the built library does not ship the local issuer yet. Same shape as the subset the
// benchmark uses: url, issuer, jwksUri, tokenEndpoint, sign(), registerClient(), counts, close().
import { createServer } from 'node:http';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign as cryptoSign } from 'node:crypto';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function makeKey(alg) {
  // PEM first, then import: exporting a JWK from a key fresh out of generateKeyPairSync can
  // deadlock on Node 20 (see TOOLCHAIN.md).
  const pair = alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
    : generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const privateKey = createPrivateKey(pair.privateKey);
  const kid = `${alg.toLowerCase()}-${randomBytes(6).toString('hex')}`;
  const jwk = { ...createPublicKey(pair.publicKey).export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, jwk };
}

function signAsync(alg, data, key) {
  return new Promise((resolve, reject) => {
    const k = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key;
    // The callback form runs on libuv's thread pool, so many signatures in flight use every core.
    cryptoSign('sha256', data, k, (err, sig) => (err ? reject(err) : resolve(sig)));
  });
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** @param {{ alg?: string, tokenLifetime?: number }} [options] */
export async function createMiniIssuer(options = {}) {
  const tokenLifetime = options.tokenLifetime ?? 3600;
  const keys = new Map();
  const keyFor = (alg) => {
    if (!keys.has(alg)) keys.set(alg, makeKey(alg));
    return keys.get(alg);
  };
  keyFor(options.alg ?? 'RS256');
  const clients = new Map();
  const counts = { jwks: 0, token: 0, discovery: 0 };
  let issuer = '';

  async function sign(claims, opts = {}) {
    const key = keyFor(opts.alg ?? options.alg ?? 'RS256');
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: issuer, iat: now, exp: now + (opts.expiresIn ?? tokenLifetime), jti: randomUUID(), ...claims };
    const header = { alg: key.alg, typ: 'at+jwt', kid: opts.kid ?? key.kid, ...opts.header };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const sig = await signAsync(key.alg, Buffer.from(input), key.privateKey);
    return `${input}.${b64url(sig)}`;
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const json = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/.well-known/jwks.json') {
      counts.jwks++;
      return json(200, { keys: [...keys.values()].map((k) => k.jwk) });
    }
    if (req.method === 'GET' && url.pathname.startsWith('/.well-known/')) {
      counts.discovery++;
      return json(200, { issuer, jwks_uri: `${base}/.well-known/jwks.json`, token_endpoint: `${base}/oauth/token` });
    }
    if (req.method === 'POST' && url.pathname === '/oauth/token') {
      counts.token++;
      const raw = await readBody(req);
      const params = (req.headers['content-type'] ?? '').includes('json')
        ? JSON.parse(raw || '{}')
        : Object.fromEntries(new URLSearchParams(raw));
      let { client_id: id, client_secret: secret } = params;
      const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
      if (basic) {
        const [u, p] = Buffer.from(basic[1], 'base64').toString().split(':');
        id = decodeURIComponent(u);
        secret = decodeURIComponent(p ?? '');
      }
      const client = clients.get(id);
      if (!client || client.clientSecret !== secret) return json(401, { error: 'invalid_client' });
      const audience = params.audience ?? params.resource ?? client.audiences[0];
      if (!client.audiences.includes(audience)) return json(403, { error: 'access_denied' });
      const token = await sign({ sub: `${id}@clients`, aud: audience, azp: id, scope: '', gty: 'client-credentials' });
      return json(200, { access_token: token, token_type: 'Bearer', expires_in: tokenLifetime });
    }
    json(404, { error: 'not_found' });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  issuer = `${base}/`;
  return {
    url: base,
    issuer,
    jwksUri: `${base}/.well-known/jwks.json`,
    tokenEndpoint: `${base}/oauth/token`,
    counts,
    sign,
    registerClient({ audiences }) {
      const client = { clientId: `client-${randomBytes(6).toString('hex')}`, clientSecret: randomBytes(24).toString('base64url'), audiences };
      clients.set(client.clientId, client);
      return { clientId: client.clientId, clientSecret: client.clientSecret };
    },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}
