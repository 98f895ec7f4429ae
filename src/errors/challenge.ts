/**
 * Internal: the `WWW-Authenticate` challenge (RFC 6750 section 3, RFC 9110 section 11.6.1),
 * rendered when a rejection is answered, from the rejection's own attributes (its `error`,
 * description and required scopes) and the context of the API that answers it (its `realm`, the
 * schemes it accepts). Nothing of it is frozen into an error when the error is built.
 */
import { quotable } from './quotable.js';

/** The RFC 6750 section 3.1 / RFC 9449 section 7.1 and 9 `error` attribute values. */
export type ChallengeErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'use_dpop_nonce';

/** The errors that are about a DPoP proof: always answered in a `DPoP` challenge (RFC 9449 section 7.1). */
const DPOP_ERRORS: ReadonlySet<string> = new Set(['invalid_dpop_proof', 'use_dpop_nonce']);

/** The DPoP scheme of an API that accepts it (RFC 9449 section 7.1). */
export interface DpopChallenge {
  /** The `algs` attribute: the proof algorithms accepted, space-separated. */
  readonly algs: string;
  /** Whether the `Bearer` scheme is accepted too (DPoP `mode: 'allowed'`). */
  readonly bearer: boolean;
}

/**
 * How an API challenges its clients: set once per `requireAuth`, applied to each rejection it
 * answers (the guards after it included).
 */
export interface ChallengeContext {
  /** `realm` attribute of every challenge. */
  readonly realm?: string | undefined;
  /**
   * `resource_metadata` attribute of every challenge (RFC 9728 section 5.1): the URL of the API's
   * protected resource metadata, where a client finds the authorization servers to get a token from.
   */
  readonly resourceMetadata?: string | undefined;
  /** The DPoP scheme, when the API accepts it: challenges then name `DPoP` (and `Bearer` only when it is accepted too). */
  readonly dpop?: DpopChallenge | undefined;
  /** The scheme the answered request used (`DPoP` or `Bearer`), when it used one the API knows: its errors are answered in it. */
  readonly scheme?: 'Bearer' | 'DPoP' | undefined;
}

/** What a rejection says in its challenge. */
export interface ChallengeAttributes {
  readonly error?: ChallengeErrorCode | undefined;
  readonly description?: string | undefined;
  /** Required scopes (the `scope` attribute of `insufficient_scope`). */
  readonly scope?: string | undefined;
}

/** The context of an API that configured nothing: a bare `Bearer` challenge. */
export const DEFAULT_CHALLENGE_CONTEXT: ChallengeContext = Object.freeze({});

/** Whether `context` adds nothing to a challenge (the rejection's own attributes are all it says). */
export function addsNothing(context: ChallengeContext): boolean {
  return context.realm === undefined && context.resourceMetadata === undefined && context.dpop === undefined;
}

/**
 * `Bearer realm="...", error="...", error_description="...", scope="...", resource_metadata="..."`:
 * every attribute value made header-safe (see `quotable`), attributes left out when absent. The
 * API's context comes first (`realm`) and last (`resource_metadata`), around what the rejection says.
 */
export function renderChallenge(attributes: ChallengeAttributes, context: ChallengeContext): string {
  const { dpop } = context;
  if (dpop === undefined) return renderScheme('Bearer', attributes, context);
  // RFC 9449 section 7.1: an error about the proof, or a request that used DPoP, is answered in
  // DPoP; a request without credentials gets every accepted scheme's challenge.
  const inDpop = !dpop.bearer || (attributes.error !== undefined && DPOP_ERRORS.has(attributes.error))
    || (context.scheme === 'DPoP' && attributes.error !== undefined);
  if (inDpop) return renderScheme('DPoP', attributes, context);
  const bearer = renderScheme('Bearer', attributes, context);
  return attributes.error === undefined ? `${bearer}, ${renderScheme('DPoP', {}, context)}` : bearer;
}

/** One challenge: `<scheme> realm=..., error=..., ..., algs=... (DPoP), resource_metadata=...`. */
function renderScheme(scheme: 'Bearer' | 'DPoP', attributes: ChallengeAttributes, context: ChallengeContext): string {
  const parts: string[] = [];
  if (context.realm !== undefined) parts.push(`realm="${quotable(context.realm)}"`);
  if (attributes.error !== undefined) parts.push(`error="${attributes.error}"`);
  if (attributes.description) parts.push(`error_description="${quotable(attributes.description)}"`);
  if (attributes.scope) parts.push(`scope="${quotable(attributes.scope)}"`);
  if (scheme === 'DPoP' && context.dpop !== undefined) parts.push(`algs="${context.dpop.algs}"`);
  if (context.resourceMetadata !== undefined) parts.push(`resource_metadata="${quotable(context.resourceMetadata)}"`);
  return parts.length === 0 ? scheme : `${scheme} ${parts.join(', ')}`;
}
