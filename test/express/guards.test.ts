/**
 * requireScopes / claimEquals / claimIncludes / claimCheck end to end on Express 4 and 5, with
 * tokens from a real local issuer. Every authorization failure on a valid token is a 403.
 */
import request from 'supertest';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';
import { authErrorHandler, claimCheck, claimEquals, claimIncludes, getAuth, requireAuth, requireScopes } from 'express-m2m';
import type { RequireAuthMiddleware } from 'express-m2m';
import { AUDIENCE, EXPRESS_VERSIONS } from './support.js';

let issuer: LocalIssuer;
let auth: RequireAuthMiddleware;
let realmAuth: RequireAuthMiddleware;

beforeAll(async () => {
  issuer = await createLocalIssuer();
  auth = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE });
  realmAuth = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, realm: 'orders' });
  await auth.warmUp();
});
afterAll(async () => {
  auth.close();
  realmAuth.close();
  await issuer.close();
});

const token = (scope: string, claims: Record<string, unknown> = {}) => issuer.accessToken({ audience: AUDIENCE, scope, claims });

describe.each(EXPRESS_VERSIONS)('%s', (_name, makeApp) => {
  let remembered: unknown;
  function app() {
    const application = makeApp();
    const ok = (_req: unknown, res: { json: (body: unknown) => void }) => res.json({ ok: true });
    application.get('/all', auth, requireScopes('read:orders write:orders'), ok);
    application.get('/any', auth, requireScopes(['admin', 'write:orders'], { match: 'any' }), ok);
    application.get('/org', auth, claimEquals('org_id', 'acme'), ok);
    application.get('/roles', auth, claimIncludes('roles', 'admin', 'ops'), ok);
    application.get('/version', auth, claimCheck<{ ver?: number }>((claims) => (claims.ver ?? 0) >= 2, 'token version 2 or later required'), ok);
    application.get('/realm', realmAuth, requireScopes('admin'), ok);
    application.get('/realm-claim', realmAuth, claimEquals('org_id', 'acme'), ok);
    // Two requireAuth on one route: the guard answers in the context of the one that admitted req.auth.
    application.get('/realm-then-plain', realmAuth, auth, requireScopes('admin'), ok);
    application.get('/plain-then-realm', auth, realmAuth, requireScopes('admin'), ok);
    application.get('/unguarded-scope', requireScopes('read:orders'), ok);
    application.get('/unguarded-claim', claimEquals('org_id', 'acme'), ok);
    // Another middleware (express-jwt uses the same property) put something on req.auth.
    const foreign = (value: unknown) => (req: { auth?: unknown }, _res: unknown, next: () => void) => {
      req.auth = value;
      next();
    };
    application.get('/foreign-empty', foreign({}), claimCheck(() => true), ok);
    application.get('/foreign-lookalike', foreign({ token: 'x', header: { alg: 'none' }, payload: { sub: 'admin' }, scopes: ['admin'] }), requireScopes('admin'), ok);
    application.get('/replaced', auth, foreign({ payload: { org_id: 'acme' }, scopes: [] }), claimEquals('org_id', 'acme'), ok);
    // A token requireAuth admitted on an earlier request, put back on req.auth of a later one
    // (as a session store would): admitted there, not here.
    application.get('/remember', auth, (req: { auth?: unknown }, res: { json: (body: unknown) => void }) => {
      remembered = req.auth;
      res.json({ ok: true });
    });
    application.get('/transplanted', (req: { auth?: unknown }, _res: unknown, next: () => void) => {
      req.auth = remembered;
      next();
    }, requireScopes('read:orders'), ok);
    application.get('/foreign-getauth', foreign({ payload: { sub: 'x' }, scopes: [] }), (req, res) => {
      res.json({ sub: getAuth(req as never).payload.sub });
    });
    application.use(authErrorHandler());
    return application;
  }

  describe('requireScopes: all (default) or any of the scopes, else 403 insufficient_scope with scope="..."', () => {
    it('admits a token with every required scope', async () => {
      const response = await request(app()).get('/all').set('Authorization', `Bearer ${await token('write:orders read:orders extra')}`);
      expect(response.status).toBe(200);
    });

    it('refuses a token missing one of them with 403', async () => {
      const response = await request(app()).get('/all').set('Authorization', `Bearer ${await token('read:orders')}`);
      expect(response.status).toBe(403);
      expect(response.headers['www-authenticate']).toBe(
        'Bearer error="insufficient_scope", error_description="the token needs all of the scopes read:orders write:orders", scope="read:orders write:orders"',
      );
      expect(response.body).toEqual({ error: 'insufficient_scope', error_description: 'the token needs all of the scopes read:orders write:orders' });
    });

    it('match "any": one scope is enough', async () => {
      await request(app()).get('/any').set('Authorization', `Bearer ${await token('write:orders')}`).expect(200);
      const response = await request(app()).get('/any').set('Authorization', `Bearer ${await token('read:orders')}`);
      expect(response.status).toBe(403);
      expect(response.headers['www-authenticate']).toContain('scope="admin write:orders"');
    });

    it('refuses a seed-shaped token with an empty scope', async () => {
      const response = await request(app()).get('/any').set('Authorization', `Bearer ${await token('')}`);
      expect(response.status).toBe(403);
    });

    it('carries requireAuth\'s realm', async () => {
      const response = await request(app()).get('/realm').set('Authorization', `Bearer ${await token('read:orders')}`);
      expect(response.status).toBe(403);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="orders", error="insufficient_scope"/);
    });

    it('answers in the context of the requireAuth that admitted the token on req.auth (the last one), whatever came before', async () => {
      const bearer = `Bearer ${await token('read:orders')}`;
      const plain = await request(app()).get('/realm-then-plain').set('Authorization', bearer);
      expect(plain.status).toBe(403);
      expect(plain.headers['www-authenticate']).toMatch(/^Bearer error="insufficient_scope"/);
      const realm = await request(app()).get('/plain-then-realm').set('Authorization', bearer);
      expect(realm.status).toBe(403);
      expect(realm.headers['www-authenticate']).toMatch(/^Bearer realm="orders", error="insufficient_scope"/);
      // The same token, admitted by each middleware on its own route: each answers in its own context.
      expect((await request(app()).get('/realm').set('Authorization', bearer)).headers['www-authenticate']).toMatch(/^Bearer realm="orders", /);
      expect((await request(app()).get('/all').set('Authorization', bearer)).headers['www-authenticate']).toMatch(/^Bearer error=/);
    });

    it('claim guards carry requireAuth\'s realm too', async () => {
      const response = await request(app()).get('/realm-claim').set('Authorization', `Bearer ${await token('', { org_id: 'evil' })}`);
      expect(response.status).toBe(403);
      expect(response.headers['www-authenticate']).toBe(
        'Bearer realm="orders", error="insufficient_scope", error_description="the org_id claim does not have the required value"',
      );
    });
  });

  describe('claim checks: equals, includes, custom predicate; failures are 403 (not 401 as in the Auth0 anchor)', () => {
    it('claimEquals', async () => {
      await request(app()).get('/org').set('Authorization', `Bearer ${await token('', { org_id: 'acme' })}`).expect(200);
      const response = await request(app()).get('/org').set('Authorization', `Bearer ${await token('', { org_id: 'evil' })}`);
      expect(response.status).toBe(403);
      expect(response.headers['www-authenticate']).toBe(
        'Bearer error="insufficient_scope", error_description="the org_id claim does not have the required value"',
      );
      expect(response.body.error).toBe('insufficient_scope');
    });

    it('claimIncludes', async () => {
      await request(app()).get('/roles').set('Authorization', `Bearer ${await token('', { roles: ['ops', 'admin'] })}`).expect(200);
      const response = await request(app()).get('/roles').set('Authorization', `Bearer ${await token('', { roles: ['ops'] })}`);
      expect(response.status).toBe(403);
      expect(response.body.error_description).toBe('the roles claim does not include the required values');
    });

    it('claimCheck', async () => {
      await request(app()).get('/version').set('Authorization', `Bearer ${await token('', { ver: 2 })}`).expect(200);
      const response = await request(app()).get('/version').set('Authorization', `Bearer ${await token('', { ver: 1 })}`);
      expect(response.status).toBe(403);
      expect(response.body).toEqual({ error: 'insufficient_scope', error_description: 'token version 2 or later required' });
    });

    it('an invalid token never reaches a guard: 401, not 403', async () => {
      const wrongAudience = await issuer.accessToken({ audience: 'https://other.test', scope: 'read:orders write:orders' });
      const response = await request(app()).get('/all').set('Authorization', `Bearer ${wrongAudience}`);
      expect(response.status).toBe(401);
    });
  });

  describe('a guard trusts only what requireAuth admitted: any other req.auth is a 401', () => {
    it.each([
      ['req.auth = {} and claimCheck(() => true)', '/foreign-empty'],
      ['a look-alike object with the right scope', '/foreign-lookalike'],
      ['req.auth replaced after requireAuth admitted the request', '/replaced'],
      ['getAuth() in a handler', '/foreign-getauth'],
    ])('%s', async (_case, path) => {
      const response = await request(app()).get(path).set('Authorization', `Bearer ${await token('read:orders', { org_id: 'acme' })}`);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.body.error_description).toMatch(/mount requireAuth\(\) before/);
    });

    it('a token admitted on an earlier request and put on a later request\'s req.auth (as from a session)', async () => {
      const bearer = `Bearer ${await token('read:orders')}`;
      await request(app()).get('/remember').set('Authorization', bearer).expect(200);
      expect(remembered).toMatchObject({ scopes: ['read:orders'] });
      const response = await request(app()).get('/transplanted').set('Authorization', bearer);
      expect(response.status).toBe(401);
      expect(response.body.error_description).toMatch(/mount requireAuth\(\) before/);
    });
  });

  describe('a guard without requireAuth before it fails closed with 401, not 500', () => {
    it.each(['/unguarded-scope', '/unguarded-claim'])('%s', async (path) => {
      const response = await request(app()).get(path).set('Authorization', `Bearer ${await token('read:orders', { org_id: 'acme' })}`);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.body.error_description).toMatch(/mount requireAuth\(\) before/);
    });
  });
});

describe('guards validate their arguments at construction, naming the option', () => {
  it.each([
    [() => requireScopes(''), /^requireScopes: "scopes" must name at least one scope/],
    [() => requireScopes('a', { match: 'most' as 'all' }), /^requireScopes: "match" must be 'all' or 'any'/],
    [() => claimEquals('', 'x'), /^claimEquals: "claim" must be a non-empty string/],
    [() => claimIncludes('roles'), /^claimIncludes: give at least one expected value/],
    [() => claimCheck(undefined as unknown as () => boolean), /^claimCheck: "predicate" must be a function/],
  ])('%#', (build, message) => {
    expect(build).toThrow(message);
  });
});
