/**
 * Internal: the `WWW-Authenticate` challenge (RFC 6750 section 3, RFC 9110 section 11.6.1),
 * rendered when a rejection is answered, from the rejection's own attributes (its `error`,
 * description and required scopes) and the context of the API that answers it (its `realm`, the
 * schemes it accepts). Nothing of it is frozen into an error when the error is built.
 */
import { quotable } from './quotable.js';

/** The RFC 6750 section 3.1 / RFC 9449 section 7.1 `error` attribute values. */
export type ChallengeErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/**
 * How an API challenges its clients: set once per `requireAuth`, applied to each rejection it
 * answers (the guards after it included).
 */
export interface ChallengeContext {
  /** `realm` attribute of every challenge. */
  readonly realm?: string | undefined;
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

/**
 * `Bearer realm="...", error="...", error_description="...", scope="..."`: every attribute value
 * made header-safe (see `quotable`), attributes left out when absent.
 */
export function renderChallenge(attributes: ChallengeAttributes, context: ChallengeContext): string {
  const parts: string[] = [];
  if (context.realm !== undefined) parts.push(`realm="${quotable(context.realm)}"`);
  if (attributes.error !== undefined) parts.push(`error="${attributes.error}"`);
  if (attributes.description) parts.push(`error_description="${quotable(attributes.description)}"`);
  if (attributes.scope) parts.push(`scope="${quotable(attributes.scope)}"`);
  return parts.length === 0 ? 'Bearer' : `Bearer ${parts.join(', ')}`;
}
