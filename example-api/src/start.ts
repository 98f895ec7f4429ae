/**
 * Starts the whole example from a configuration: the embedded local issuer (when no issuer is
 * configured), the downstream service (unless `DOWNSTREAM_URL` names another) and the API.
 * `main.ts` (the `npm start` command) and `demo.ts` both use it.
 */
import type { RequireAuthOptions } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { createApp, type DownstreamTarget } from './app.js';
import type { ExampleConfig, IssuerSettings } from './config.js';
import { createDownstreamApp, DOWNSTREAM_DPOP_PATH, DOWNSTREAM_PATH } from './downstream.js';
import { listen, type Listening } from './http.js';
import { API_CERTIFICATE_SUBJECT, exampleMtls, type ExampleMtls } from './mtls.js';

/** The client id of the demo client the embedded issuer registers. */
export const DEMO_CLIENT_ID = 'demo-client';
/** The scopes of the demo client. */
export const DEMO_SCOPES = ['read:orders', 'write:orders'] as const;
/** The client id the API itself uses to call the downstream service (embedded mode). */
export const API_CLIENT_ID = 'example-api';
/** The client id the API uses for the DPoP-only downstream (embedded mode): it gets only DPoP-bound tokens. */
export const API_DPOP_CLIENT_ID = 'example-api-dpop';
/** The scope the API asks for when it calls the downstream service (embedded mode). */
export const DOWNSTREAM_SCOPE = 'read:inventory';

/** The demo client's credentials, for pasting (embedded mode only: they exist only in this process). */
export interface DemoClient {
  clientId: string;
  clientSecret: string;
  tokenEndpoint: string;
  audience: string;
  scopes: readonly string[];
}

/** A running example. */
export interface RunningExample {
  /** The API's base URL, with its real port. */
  apiUrl: string;
  /** The URL `GET /api/downstream` calls. */
  downstreamUrl: string | undefined;
  /** The URL `GET /api/downstream-dpop` calls (DPoP required); embedded mode only. */
  dpopDownstreamUrl: string | undefined;
  /** The audience of the downstream's tokens (both routes). */
  downstreamAudience: string;
  /** Base URL of the embedded issuer; undefined when an issuer is configured. */
  issuerUrl: string | undefined;
  /** The demo client; undefined when an issuer is configured. */
  demoClient: DemoClient | undefined;
  /** The embedded issuer (for tests); undefined when an issuer is configured. */
  localIssuer: LocalIssuer | undefined;
  /** In mTLS mode (`DOWNSTREAM_MTLS`): the file of the embedded issuer's CA, to trust its https. */
  caFile: string | undefined;
  /** Stops everything this example started. Safe to call more than once. */
  close(): Promise<void>;
}

/** Options of {@link startExample}. */
export interface StartOptions {
  /** Where warnings and unexpected errors go (never tokens or secrets). Default `console.error`. */
  log?: (line: string) => void;
}

function authOptions(issuer: Exclude<IssuerSettings, { kind: 'embedded' }>, audience: string): RequireAuthOptions {
  return issuer.kind === 'discovery'
    ? { issuerBaseURL: issuer.issuerBaseURL, audience }
    : { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience };
}

/**
 * Starts the example described by `config`. Rejects (after stopping whatever it had started) when
 * something cannot start, e.g. the port is taken.
 *
 * @example
 * const example = await startExample(loadConfig({ PORT: '0' }));
 * console.log(example.apiUrl);
 * await example.close();
 */
export async function startExample(config: ExampleConfig, options: StartOptions = {}): Promise<RunningExample> {
  const log = options.log ?? ((line: string) => console.error(line));
  const cleanups: Array<() => Promise<void> | void> = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (error) {
          log(`example-api: error while stopping: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    })();
    return closing;
  };

  try {
    let issuerSettings: Exclude<IssuerSettings, { kind: 'embedded' }>;
    let localIssuer: LocalIssuer | undefined;
    let demoClient: DemoClient | undefined;
    let outbound: Omit<DownstreamTarget, 'url'> | undefined;
    let outboundDpop: Omit<DownstreamTarget, 'url'> | undefined;
    let dpopDownstreamUrl: string | undefined;
    let downstreamUrl: string | undefined;
    let mtls: ExampleMtls | undefined;
    const downstreamAudience = config.outbound?.downstreamAudience ?? config.downstreamAudience;

    if (config.issuer.kind === 'embedded') {
      localIssuer = await createLocalIssuer(config.downstreamMtls ? { tls: {} } : {});
      const issuer = localIssuer;
      cleanups.push(() => issuer.close());
      issuerSettings = { kind: 'discovery', issuerBaseURL: issuer.url };
      if (config.downstreamMtls) {
        const made = exampleMtls(issuer);
        mtls = made;
        cleanups.push(() => made.close());
      }
      // The demo client may also ask for the downstream's audience: `npm run demo` gets a DPoP-bound
      // token for it with a key of its own, to show a replayed proof and a Bearer-presented token refused.
      const demo = issuer.registerClient({ clientId: DEMO_CLIENT_ID, audiences: [config.audience, downstreamAudience], scopes: [...DEMO_SCOPES] });
      // In mTLS mode the API authenticates with its certificate (tls_client_auth), without a secret.
      const service = issuer.registerClient({
        clientId: API_CLIENT_ID, audiences: [downstreamAudience], scopes: [DOWNSTREAM_SCOPE],
        ...(mtls === undefined ? {} : { tlsClientAuth: { subjectDn: API_CERTIFICATE_SUBJECT } }),
      });
      // The DPoP client: the issuer refuses its token requests without a proof, and binds its tokens to
      // the proof's key (cnf.jkt). In mTLS mode it authenticates with the certificate too (bound both ways).
      const dpopService = issuer.registerClient({
        clientId: API_DPOP_CLIENT_ID, audiences: [downstreamAudience], scopes: [DOWNSTREAM_SCOPE], dpopBoundAccessTokens: true,
        ...(mtls === undefined ? {} : { tlsClientAuth: { subjectDn: API_CERTIFICATE_SUBJECT } }),
      });
      if (demo.clientSecret === undefined || (mtls === undefined && (service.clientSecret === undefined || dpopService.clientSecret === undefined))) {
        throw new Error('the embedded issuer registered a client without a secret');
      }
      demoClient = {
        clientId: demo.clientId,
        clientSecret: demo.clientSecret,
        tokenEndpoint: issuer.tokenEndpoint,
        audience: config.audience,
        scopes: DEMO_SCOPES,
      };
      outbound = {
        client: mtls === undefined
          ? { tokenEndpoint: issuer.tokenEndpoint, clientId: service.clientId, clientSecret: service.clientSecret, audience: downstreamAudience, scope: DOWNSTREAM_SCOPE }
          // The mTLS token endpoint is discovered (mtls_endpoint_aliases), the token bound to the certificate.
          : { issuerBaseURL: issuer.url, clientId: service.clientId, audience: downstreamAudience, scope: DOWNSTREAM_SCOPE, tls: { cert: mtls.client.cert, key: mtls.client.key, ca: issuer.tls!.ca } },
      };
      // `dpop: true`: a key generated at start-up (ES256); every token request and call carries a proof.
      outboundDpop = {
        client: mtls === undefined
          ? { tokenEndpoint: issuer.tokenEndpoint, clientId: dpopService.clientId, clientSecret: dpopService.clientSecret, audience: downstreamAudience, scope: DOWNSTREAM_SCOPE, dpop: true }
          : { issuerBaseURL: issuer.url, clientId: dpopService.clientId, audience: downstreamAudience, scope: DOWNSTREAM_SCOPE, tls: { cert: mtls.client.cert, key: mtls.client.key, ca: issuer.tls!.ca }, dpop: true },
      };
    } else {
      issuerSettings = config.issuer;
      const settings = config.outbound;
      if (settings !== undefined) {
        let endpoint: { tokenEndpoint: string } | { issuerBaseURL: string };
        if (settings.tokenEndpoint !== undefined) endpoint = { tokenEndpoint: settings.tokenEndpoint };
        else if (issuerSettings.kind === 'discovery') endpoint = { issuerBaseURL: issuerSettings.issuerBaseURL };
        else throw new Error('TOKEN_ENDPOINT is required when the issuer is given as ISSUER and JWKS_URI'); // loadConfig refuses this already
        outbound = {
          client: {
            ...endpoint,
            clientId: settings.clientId,
            clientSecret: settings.clientSecret,
            ...(settings.authMethod === undefined ? {} : { authMethod: settings.authMethod }),
            audience: settings.downstreamAudience,
          },
        };
        downstreamUrl = settings.downstreamUrl;
      }
    }

    // The built-in downstream service trusts the same issuer, for its own audience.
    if (outbound !== undefined && downstreamUrl === undefined) {
      const downstreamAuth: RequireAuthOptions = mtls === undefined ? authOptions(issuerSettings, downstreamAudience)
        : { ...authOptions(issuerSettings, downstreamAudience), fetch: mtls.trustingFetch, mtls: { mode: 'required', certificate: 'tls' } };
      // With the embedded issuer, the same service also has a DPoP-only route (proofs remembered in memory).
      const downstream = createDownstreamApp({ auth: downstreamAuth, dpop: outboundDpop === undefined ? undefined : { algorithms: ['ES256', 'EdDSA'] }, log });
      cleanups.push(() => downstream.auth.close());
      cleanups.push(() => downstream.dpopAuth?.close());
      const listening: Listening = await listen(downstream.app, 0, '127.0.0.1', mtls?.server);
      cleanups.push(() => listening.close());
      downstreamUrl = `${listening.url}${DOWNSTREAM_PATH}`;
      if (downstream.dpopAuth !== undefined) dpopDownstreamUrl = `${listening.url}${DOWNSTREAM_DPOP_PATH}`;
      await downstream.auth.warmUp().catch(() => undefined);
      await downstream.dpopAuth?.warmUp().catch(() => undefined);
    }

    const api = createApp({
      auth: mtls === undefined ? authOptions(issuerSettings, config.audience) : { ...authOptions(issuerSettings, config.audience), fetch: mtls.trustingFetch },
      downstream: outbound === undefined || downstreamUrl === undefined ? undefined : { ...outbound, url: downstreamUrl },
      downstreamDpop: outboundDpop === undefined || dpopDownstreamUrl === undefined ? undefined : { ...outboundDpop, url: dpopDownstreamUrl },
      log,
    });
    cleanups.push(() => api.close());
    try {
      await api.warmUp();
    } catch (error) {
      log(`example-api: warning: could not fetch the issuer's keys yet (${error instanceof Error ? error.message : String(error)}); requests will retry`);
    }
    let listening: Listening;
    try {
      listening = await listen(api.app, config.port, config.host);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (code === 'EADDRINUSE') {
        throw new Error(`PORT ${config.port} is already in use on ${config.host}: set PORT to another port (PORT=0 picks a free one)`);
      }
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
        throw new Error(`HOST ${JSON.stringify(config.host)} is not an address of this machine`);
      }
      if (code === 'EACCES') throw new Error(`PORT ${config.port} needs privileges: use a port above 1023`);
      throw error;
    }
    cleanups.push(() => listening.close());

    return { apiUrl: listening.url, downstreamUrl, dpopDownstreamUrl, downstreamAudience, issuerUrl: localIssuer?.url, demoClient, localIssuer, caFile: mtls?.caFile, close };
  } catch (error) {
    await close();
    throw error;
  }
}
