/**
 * The `claims` option: a value, a list or a predicate (sync or async) per claim, 401 when it
 * fails; rules for iss and aud replace the default checks while the type checks stay; time
 * claims and cnf take no rule; the outcome is cached with the token.
 */
import { createVerifier, InvalidTokenError, requireAuth, type ClaimRules, type VerifierOptions } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';

const AUDIENCE = 'https://api.example';
let issuer: LocalIssuer;

beforeAll(async () => {
  issuer = await createLocalIssuer();
});
afterAll(async () => {
  await issuer.close();
});

function verifierWith(claims: ClaimRules, more: Partial<VerifierOptions> = {}) {
  return createVerifier({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE, claims, ...more } as VerifierOptions);
}

async function rejection(attempt: () => unknown): Promise<InvalidTokenError> {
  try {
    await attempt();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenError);
    return error as InvalidTokenError;
  }
  throw new Error('expected a rejection');
}

const token = (claims: Record<string, unknown>, audience: string | string[] = AUDIENCE) => issuer.accessToken({ audience: audience as string, claims });

describe('values and lists', () => {
  test('a value: equal accepted, other refused (401 ERR_JWT_CLAIM_INVALID with the detail), absent refused as missing', async () => {
    const verifier = verifierWith({ tenant: 'acme' });
    await expect(verifier.verify(await token({ tenant: 'acme' }))).resolves.toMatchObject({ payload: { tenant: 'acme' } });
    const other = await rejection(async () => verifier.verify(await token({ tenant: 'globex' })));
    expect(other).toMatchObject({ status: 401, code: 'ERR_JWT_CLAIM_INVALID', message: "unexpected 'tenant' claim value" });
    expect(other.detail).toMatchObject({ claim: 'tenant', expected: 'acme', received: 'globex' });
    const absent = await rejection(async () => verifier.verify(await token({})));
    expect(absent).toMatchObject({ status: 401, code: 'ERR_JWT_CLAIM_MISSING', message: "missing required 'tenant' claim" });
    expect(absent.detail).toMatchObject({ claim: 'tenant', expected: 'acme' });
    verifier.close();
  });

  test('types are not coerced: 1 is not "1", true is not "true"', async () => {
    const verifier = verifierWith({ level: 1, verified: true });
    await expect(verifier.verify(await token({ level: 1, verified: true }))).resolves.toBeDefined();
    expect((await rejection(async () => verifier.verify(await token({ level: '1', verified: true })))).code).toBe('ERR_JWT_CLAIM_INVALID');
    expect((await rejection(async () => verifier.verify(await token({ level: 1, verified: 'true' })))).code).toBe('ERR_JWT_CLAIM_INVALID');
    verifier.close();
  });

  test('a list: one of them; an array claim must contain one of them', async () => {
    const verifier = verifierWith({ tenant: ['acme', 'globex'], roles: ['reader', 'writer'] });
    await expect(verifier.verify(await token({ tenant: 'globex', roles: ['admin', 'writer'] }))).resolves.toBeDefined();
    expect((await rejection(async () => verifier.verify(await token({ tenant: 'initech', roles: ['reader'] })))).detail)
      .toMatchObject({ claim: 'tenant', expected: '["acme","globex"]', received: 'initech' });
    expect((await rejection(async () => verifier.verify(await token({ tenant: 'acme', roles: ['admin'] })))).detail).toMatchObject({ claim: 'roles' });
    // An array is not "one of" the values by its text.
    expect((await rejection(async () => verifier.verify(await token({ tenant: ['acme'], roles: 'reader,writer' })))).detail).toMatchObject({ claim: 'roles' });
    verifier.close();
  });
});

describe('predicates', () => {
  test('a predicate that refuses an absent claim: its verdict on the value, not a missing required claim', async () => {
    // only a value or list rule requires the claim; a predicate is asked about undefined like any value
    const verifier = verifierWith({ tenant: (value) => value === 'acme' });
    const absent = await rejection(async () => verifier.verify(await token({})));
    expect(absent).toMatchObject({ status: 401, code: 'ERR_JWT_CLAIM_INVALID', message: "unexpected 'tenant' claim value" });
    const optional = verifierWith({ tenant: (value) => value === undefined || value === 'acme' });
    await expect(optional.verify(await token({}))).resolves.toMatchObject({ payload: { sub: expect.any(String) } });
  });

  test('sync: true accepts; false, a non-boolean and a throw refuse (the throw kept as cause, not in the message)', async () => {
    const verifier = verifierWith({
      tenant: (value) => value === 'acme',
      region: (value) => (value === 'boom' ? (() => { throw new Error('lookup exploded: secret-detail'); })() : (value === 'truthy' ? 1 as unknown as boolean : true)),
    }, { verifiedTokenCache: false });
    await expect(verifier.verify(await token({ tenant: 'acme', region: 'eu' }))).resolves.toBeDefined();
    expect((await rejection(async () => verifier.verify(await token({ tenant: 'globex' })))).code).toBe('ERR_JWT_CLAIM_INVALID');
    expect((await rejection(async () => verifier.verify(await token({ tenant: 'acme', region: 'truthy' })))).detail).toMatchObject({ claim: 'region' });
    const thrown = await rejection(async () => verifier.verify(await token({ tenant: 'acme', region: 'boom' })));
    expect(thrown.message).not.toContain('secret-detail');
    expect((thrown.cause as Error).message).toBe('lookup exploded: secret-detail');
    verifier.close();
  });

  test('a predicate sees the claim (undefined when absent) and the frozen payload', async () => {
    const seen: unknown[] = [];
    const verifier = verifierWith({ tenant: (value, payload) => { seen.push(value, Object.isFrozen(payload), payload.sub); return true; } });
    await verifier.verify(await token({ sub: 'svc' }));
    expect(seen).toEqual([undefined, true, 'svc']);
    verifier.close();
  });

  test('async: resolved true accepts, false or a rejection refuses; the outcome is cached with the token', async () => {
    let calls = 0;
    const verifier = verifierWith({
      tenant: async (value) => {
        calls += 1;
        await new Promise((resolve) => setImmediate(resolve));
        if (value === 'down') throw new Error('directory down');
        return value === 'acme';
      },
    });
    const good = await token({ tenant: 'acme' });
    const first = verifier.verify(good);
    expect(first).toBeInstanceOf(Promise);
    await expect(first).resolves.toMatchObject({ payload: { tenant: 'acme' } });
    // A cache hit answers synchronously, without asking again.
    const again = verifier.verify(good);
    expect(again).not.toBeInstanceOf(Promise);
    expect(calls).toBe(1);
    const bad = await token({ tenant: 'globex' });
    expect((await rejection(async () => verifier.verify(bad))).code).toBe('ERR_JWT_CLAIM_INVALID');
    // A refused token is not cached: it is asked again.
    await rejection(async () => verifier.verify(bad));
    expect(calls).toBe(3);
    const down = await rejection(async () => verifier.verify(await token({ tenant: 'down' })));
    expect((down.cause as Error).message).toBe('directory down');
    verifier.close();
  });

  test('a predicate that throws (or rejects with) an InvalidTokenError refuses with that very error', async () => {
    const suspended = new InvalidTokenError('the tenant is suspended', 'ERR_JWT_CLAIM_INVALID');
    const unknownRegion = new InvalidTokenError('the region is not served here', 'ERR_JWT_CLAIM_INVALID');
    const verifier = verifierWith({
      tenant: (value) => { if (value === 'suspended') throw suspended; return true; },
      region: async (value) => { if (value === 'mars') throw unknownRegion; return true; },
    }, { verifiedTokenCache: false });
    const sync = await rejection(async () => verifier.verify(await token({ tenant: 'suspended' })));
    expect(sync).toBe(suspended);
    expect(sync.message).toBe('the tenant is suspended');
    const async = await rejection(async () => verifier.verify(await token({ tenant: 'acme', region: 'mars' })));
    expect(async).toBe(unknownRegion);
    verifier.close();
  });

  test('with the key at hand, synchronous rules answer synchronously (a new token, no Promise); an async one answers with a Promise', async () => {
    const one = verifierWith({ tenant: (value) => value === 'acme' }, { verifiedTokenCache: false });
    const two = verifierWith({ tenant: 'acme', region: (value) => value === 'eu' }, { verifiedTokenCache: false });
    const slow = verifierWith({ tenant: async (value) => value === 'acme' }, { verifiedTokenCache: false });
    for (const verifier of [one, two, slow]) await verifier.verify(await token({ tenant: 'acme', region: 'eu' })); // fetches the key
    for (const verifier of [one, two]) {
      const answer = verifier.verify(await token({ tenant: 'acme', region: 'eu' }));
      expect(answer).not.toBeInstanceOf(Promise);
      expect(answer).toMatchObject({ payload: { tenant: 'acme' } });
    }
    const pending = slow.verify(await token({ tenant: 'acme' }));
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).resolves.toMatchObject({ payload: { tenant: 'acme' } });
    for (const verifier of [one, two, slow]) verifier.close();
  });

  test('an asynchronous rule followed by more: each later rule runs after it, in order, and refuses as its own', async () => {
    const order: string[] = [];
    const verifier = verifierWith({
      tenant: async (value) => { order.push('tenant'); await new Promise((resolve) => setImmediate(resolve)); return value === 'acme'; },
      region: (value) => { order.push('region'); return value === 'eu'; },
      plan: async (value) => { order.push('plan'); return value === 'gold'; },
    }, { verifiedTokenCache: false });
    await expect(verifier.verify(await token({ tenant: 'acme', region: 'eu', plan: 'gold' }))).resolves.toBeDefined();
    expect(order).toEqual(['tenant', 'region', 'plan']);
    order.length = 0;
    expect((await rejection(async () => verifier.verify(await token({ tenant: 'acme', region: 'us', plan: 'gold' })))).detail).toMatchObject({ claim: 'region' });
    expect(order).toEqual(['tenant', 'region']);
    order.length = 0;
    expect((await rejection(async () => verifier.verify(await token({ tenant: 'acme', region: 'eu', plan: 'lead' })))).detail).toMatchObject({ claim: 'plan' });
    expect(order).toEqual(['tenant', 'region', 'plan']);
    order.length = 0;
    expect((await rejection(async () => verifier.verify(await token({ tenant: 'initech', region: 'eu', plan: 'gold' })))).detail).toMatchObject({ claim: 'tenant' });
    expect(order).toEqual(['tenant']);
    verifier.close();
  });
});

describe('replacing the iss and aud checks', () => {
  test('claims.aud replaces "audience": a predicate decides, the type check stays', async () => {
    const verifier = createVerifier({
      issuer: issuer.issuer,
      jwksUri: issuer.jwksUri,
      claims: { aud: (aud) => (typeof aud === 'string' ? [aud] : aud).some((value) => value.startsWith('https://api.example/')) },
    });
    expect(verifier.options.audience).toEqual([]);
    await expect(verifier.verify(await token({}, 'https://api.example/orders'))).resolves.toBeDefined();
    expect((await rejection(async () => verifier.verify(await token({}, 'https://other.example/'))))).toMatchObject({ code: 'ERR_JWT_AUDIENCE' });
    // aud of the wrong type is refused before any rule runs.
    expect((await rejection(async () => verifier.verify(await issuer.sign({ aud: 7 }))))).toMatchObject({ code: 'ERR_JWT_CLAIM_INVALID' });
    verifier.close();
  });

  test('claims.iss replaces the exact match (the configured issuer still gives the keys)', async () => {
    const verifier = verifierWith({ iss: (iss) => iss.startsWith(issuer.issuer) });
    await expect(verifier.verify(await issuer.sign({ aud: AUDIENCE, iss: `${issuer.issuer}tenant-1` }))).resolves.toBeDefined();
    expect(await rejection(async () => verifier.verify(await issuer.sign({ aud: AUDIENCE, iss: 'https://evil.example/' })))).toMatchObject({ code: 'ERR_JWT_ISSUER' });
    expect(await rejection(async () => verifier.verify(await issuer.sign({ aud: AUDIENCE, iss: 42 })))).toMatchObject({ code: 'ERR_JWT_CLAIM_INVALID' });
    verifier.close();
  });

  test('without claims.iss a different iss is refused (the default check)', async () => {
    const verifier = verifierWith({ tenant: (value) => value === undefined });
    expect(await rejection(async () => verifier.verify(await issuer.sign({ aud: AUDIENCE, iss: `${issuer.issuer}tenant-1` })))).toMatchObject({ code: 'ERR_JWT_ISSUER' });
    verifier.close();
  });

  test('rules on sub and client_id come after their type checks', async () => {
    let called = false;
    const verifier = verifierWith({ sub: () => { called = true; return true; } });
    expect(await rejection(async () => verifier.verify(await token({ sub: { $ne: null } })))).toMatchObject({ code: 'ERR_JWT_CLAIM_INVALID', detail: { claim: 'sub' } });
    expect(called).toBe(false);
    verifier.close();
  });
});

describe('construction', () => {
  const base = () => ({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE });

  test.each([
    [{ exp: 1 }, '"claims.exp": \'exp\' is checked with "clockTolerance"; it takes no rule'],
    [{ nbf: 1 }, '"claims.nbf": \'nbf\' is checked with "clockTolerance"; it takes no rule'],
    [{ iat: () => true }, '"claims.iat": \'iat\' is checked with "clockTolerance" and "maxTokenAge"'],
    [{ cnf: () => true }, '"claims.cnf": \'cnf\' is checked by the binding checks'],
    [{ tenant: [] }, '"claims.tenant" must be a string, a finite number, a boolean, a non-empty array of those, or a function'],
    [{ tenant: { $eq: 1 } }, '"claims.tenant" must be'],
    [{ tenant: Number.NaN }, '"claims.tenant" must be'],
    [{ tenant: null }, '"claims.tenant" must be'],
    [{ tenant: [1, {}] }, '"claims.tenant" must be'],
  ])('%j is refused', (claims, message) => {
    expect(() => createVerifier({ ...base(), claims } as unknown as VerifierOptions)).toThrow(message);
  });

  test.each([
    ['an array', ['tenant']],
    ['a string (its characters would otherwise become rules on the claims "0", "1", ...)', 'tenant'],
    ['null', null],
    ['a number', 1],
  ])('"claims" must be an object, not %s', (_what, claims) => {
    expect(() => createVerifier({ ...base(), claims } as unknown as VerifierOptions)).toThrow('createVerifier: "claims" must be an object');
  });

  test('audience and claims.aud together are refused; neither is refused', () => {
    expect(() => createVerifier({ ...base(), claims: { aud: 'x' } })).toThrow('"audience" and "claims.aud" both say which audiences are accepted: keep one');
    expect(() => createVerifier({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, claims: { tenant: 'a' } } as unknown as VerifierOptions)).toThrow('"audience" is required');
  });

  test('requireAuth: AUDIENCE is not read when claims.aud replaces the check; issuer entries get the rules too', async () => {
    const saved = process.env.AUDIENCE;
    process.env.AUDIENCE = 'https://from-env.example';
    try {
      const auth = requireAuth({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, claims: { aud: 'https://api.example' } });
      auth.close();
      expect(() => requireAuth({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, claims: { tenant: [] } })).toThrow('requireAuth: "claims.tenant" must be');
      expect(() => requireAuth({ audience: AUDIENCE, issuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, claims: { exp: 1 } }] }))
        .toThrow('"issuers[0].claims.exp"');
    } finally {
      if (saved === undefined) delete process.env.AUDIENCE;
      else process.env.AUDIENCE = saved;
    }
  });
});
