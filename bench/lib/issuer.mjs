// The JWKS / token server of the benchmark: express-m2m's own local issuer
// (`createLocalIssuer` from dist/testing) when the build has it, else a minimal stand-in.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { distPath } from './paths.mjs';
import { createMiniIssuer } from './mini-issuer.mjs';

/**
 * @param {{ alg?: string, tokenLifetime?: number, forceMini?: boolean }} [options]
 * @returns {Promise<{ kind: string, url: string, issuer: string, jwksUri: string, tokenEndpoint: string,
 *   sign: Function, registerClient: Function, counts: Record<string, number>, close: () => Promise<void> }>}
 */
export async function startIssuer(options = {}) {
  const file = distPath('testing/index.js');
  if (!options.forceMini && existsSync(file)) {
    const mod = await import(pathToFileURL(file).href);
    if (typeof mod.createLocalIssuer === 'function') {
      const issuer = await mod.createLocalIssuer({ alg: options.alg ?? 'RS256', tokenLifetime: options.tokenLifetime ?? 3600 });
      return Object.assign(issuer, {
        kind: 'express-m2m/testing createLocalIssuer',
        tokenEndpoint: issuer.tokenEndpoint ?? `${issuer.url}/oauth/token`,
      });
    }
  }
  const mini = await createMiniIssuer(options);
  return Object.assign(mini, { kind: 'bench mini issuer (createLocalIssuer not built yet)' });
}
