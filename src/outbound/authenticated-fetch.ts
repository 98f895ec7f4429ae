/**
 * The fetch wrapper: attaches `Authorization: Bearer`, and on a 401 `invalid_token` challenge gets
 * a new token and retries once when the request can be sent again.
 */

/** Gets a token for a request. */
export type TokenGetter = () => Promise<string>;

/**
 * Gets a token to replace one a downstream refused, or undefined when none should be fetched now
 * (the refused token was itself a recent replacement: the provider latches that for its failure
 * cooldown, so a downstream that refuses every token does not cause a token request per call).
 */
export type TokenReplacer = (rejected: string) => Promise<string | undefined>;

/** Whether the downstream's answer says the token itself is no good (RFC 6750 section 3.1 `invalid_token`). */
export function isInvalidTokenChallenge(response: Response): boolean {
  if (response.status !== 401) return false;
  const challenge = response.headers.get('www-authenticate');
  return challenge !== null && /\bBearer\b/i.test(challenge) && /\berror\s*=\s*"?invalid_token"?/i.test(challenge);
}

/** Whether a request body can be sent a second time (not a one-shot stream). */
export function isReplayableBody(body: unknown): boolean {
  if (body === undefined || body === null) return true;
  if (typeof body === 'string') return true;
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return true;
  if (body instanceof URLSearchParams || body instanceof Blob || body instanceof FormData) return true;
  return false;
}

function requestIsReplayable(input: string | URL | Request, init: RequestInit | undefined): boolean {
  if (init !== undefined && 'body' in init && init.body !== undefined) return isReplayableBody(init.body);
  if (input instanceof Request) return input.body === null;
  return true;
}

function withToken(input: string | URL | Request, init: RequestInit | undefined, token: string): RequestInit {
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  headers.set('authorization', `Bearer ${token}`);
  return { ...init, headers };
}

/** Builds the authenticated fetch of a provider. */
export function createAuthenticatedFetch(
  getToken: TokenGetter,
  replaceToken: TokenReplacer,
  onRejected: (url: string, retried: boolean) => void,
): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return async (input, init) => {
    const token = await getToken();
    const response = await fetch(input, withToken(input, init, token));
    if (!isInvalidTokenChallenge(response)) return response;
    const url = input instanceof Request ? input.url : String(input);
    const safeUrl = url.split('?')[0] ?? url;
    if (!requestIsReplayable(input, init)) {
      onRejected(safeUrl, false);
      return response;
    }
    const fresh = await replaceToken(token);
    if (fresh === undefined) {
      onRejected(safeUrl, false);
      return response;
    }
    await response.body?.cancel().catch(() => undefined);
    onRejected(safeUrl, true);
    return fetch(input, withToken(input, init, fresh));
  };
}
