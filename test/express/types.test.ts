/**
 * Compile-time checks (run by `npm run typecheck` under `strict`): the adapters type-check against
 * BOTH Express type packages without casts, `req.auth` is typed by declaration merging, and apps
 * type their own claims with `getAuth<Claims>()` and `claimCheck<Claims>()`. The Jest part checks
 * that the same code also runs.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import express4 from 'express4';
import type * as Express4Types from 'express4';
import request from 'supertest';
import { authErrorHandler, claimCheck, claimEquals, claimIncludes, getAuth, requireAuth, requireScopes } from 'express-m2m';
import type { VerifiedToken, RequireAuthMiddleware, RequireAuthOptions } from 'express-m2m';

interface OrderClaims {
  org_id: string;
  roles?: string[];
}

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

const options = { issuer: 'https://issuer.example/', audience: 'https://api.example', secret: 'a-test-secret-of-at-least-32-bytes!!' };

function buildExpress5(auth: RequireAuthMiddleware): express.Express {
  const app = express();
  app.use(auth);
  app.get('/orders/:id', requireScopes('read:orders'), claimEquals('org_id', 'acme'), (req, res) => {
    // req.auth is typed on Express 5's Request by declaration merging.
    const auth: VerifiedToken | undefined = req.auth;
    const sub: string | undefined = auth?.payload.sub;
    const scopes: readonly string[] | undefined = auth?.scopes;
    // Route params keep their inferred type next to our handlers.
    const id: string = req.params.id;
    res.json({ sub, scopes, id });
  });
  app.get('/typed', claimIncludes('roles', 'admin'), claimCheck<OrderClaims>((claims) => claims.org_id === 'acme'), (req, res) => {
    const { payload } = getAuth<OrderClaims>(req);
    const org: string = payload.org_id;
    assertType<Equal<typeof payload.roles, readonly string[] | undefined>>();
    res.json({ org });
  });
  app.get('/explicit', (req: Request, res: Response, next: NextFunction) => {
    if (req.auth === undefined) return next(new Error('unreachable'));
    res.json({ alg: req.auth.header.alg });
  });
  app.use(authErrorHandler());
  return app;
}

function buildExpress4(auth: RequireAuthMiddleware): Express4Types.Express {
  const app = express4();
  app.use(auth);
  app.get('/orders/:id', requireScopes(['read:orders'], { match: 'any' }), (req, res) => {
    // req.auth is typed on Express 4's Request too (same global namespace).
    const auth: VerifiedToken | undefined = req.auth;
    const id: string = req.params.id;
    res.json({ sub: auth?.payload.sub, id });
  });
  app.get('/typed', claimCheck<OrderClaims>((claims) => claims.org_id === 'acme'), (req, res) => {
    const { payload } = getAuth<OrderClaims>(req);
    const org: string = payload.org_id;
    res.json({ org });
  });
  app.get('/explicit', (req: Express4Types.Request, res: Express4Types.Response) => {
    res.json({ alg: req.auth?.header.alg });
  });
  app.use(authErrorHandler());
  return app;
}

/** Never called: compile-time checks only. */
export function compileOnlyChecks(): void {
  // @ts-expect-error a misspelled option is a compile error for TypeScript users
  requireAuth({ ...options, audiance: 'https://api.example' });
  // @ts-expect-error claimEquals compares with JSON primitives only
  claimEquals('org', { id: 1 });
  // @ts-expect-error the predicate of claimCheck sees the typed claims
  claimCheck<OrderClaims>((claims) => claims.org_id === 42);
  // @ts-expect-error getAuth's claims are typed: no such claim
  getAuth<OrderClaims>({}).payload.org_id.toFixed();
  // audience may come from the AUDIENCE environment variable: optional for requireAuth, whatever
  // createVerifier requires.
  const fromEnv: RequireAuthOptions = { issuerBaseURL: 'https://issuer.example/' };
  assertType<Equal<RequireAuthOptions['audience'], string | string[] | undefined>>();
  void fromEnv;
}

describe('types: the adapters type-check against both Express 4 and 5 and run on both', () => {
  const auth = requireAuth(options);
  afterAll(() => auth.close());

  it.each([
    ['express 5', buildExpress5(auth)],
    ['express 4', buildExpress4(auth)],
  ])('%s: an unauthenticated request is answered 401 by the typed app', async (_name, app) => {
    const response = await request(app).get('/orders/1');
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer');
  });

  it('rejects wrong argument types at compile time and at run time', () => {
    // @ts-expect-error scopes must be a string or a string array
    expect(() => requireScopes(42)).toThrow(/requireScopes: "scopes"/);
    // @ts-expect-error match is 'all' or 'any'
    expect(() => requireScopes('a', { match: 'some' })).toThrow(/requireScopes: "match"/);
    // @ts-expect-error allowQueryToken is a boolean
    expect(() => requireAuth({ ...options, allowQueryToken: 'yes' })).toThrow(/requireAuth: "allowQueryToken" must be a boolean/);
  });
});
