/**
 * The fetch of a token provider: presents the token on the request (through the presenter), sends
 * it through the transport, and when the downstream refuses the token (Bearer: 401
 * `invalid_token`) gets a new token and retries once, if the request can be sent again. When the
 * answer asks for the same request with new headers (DPoP: 401 `use_dpop_nonce`), it is sent
 * once more with the same token.
 */
import type { TokenSet } from '../../caches/token-cache.js';
import type { FetchLike } from '../../transport/fetch-like.js';
import type { PresentedRequest, TokenPresenter } from '../presenters/token-presenter.js';

export interface AuthenticatedFetchSettings {
  /** The token for a request. */
  token: () => Promise<TokenSet>;
  /**
   * A token to replace one a downstream refused, or undefined when none should be fetched now
   * (the refused token was itself a recent replacement: the provider latches that for its failure
   * cooldown, so a downstream that refuses every token does not cause a token request per call).
   */
  replace: (refused: string) => Promise<TokenSet | undefined>;
  presenter: TokenPresenter;
  fetch: FetchLike;
  /** A downstream refused a token; `url` without its query. */
  onRefused: (url: string, retried: boolean) => void;
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

/** The URL of a request without its query and fragment (for events: a query may carry secrets). */
function withoutQuery(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

/** Builds the authenticated fetch of a provider. */
export function createAuthenticatedFetch(settings: AuthenticatedFetchSettings): FetchLike {
  const { presenter, fetch } = settings;
  const sendOnce = async (
    input: string | URL | Request, init: RequestInit | undefined, request: PresentedRequest, token: TokenSet, headers: Headers,
  ): Promise<Response> => {
    await presenter.present(token, request, headers);
    if (presenter.redirect === undefined) return fetch(input, { ...init, headers });
    // A presentation for one URL (a DPoP proof) is never sent on to where a redirect points.
    const asked = init?.redirect ?? (input instanceof Request ? input.redirect : 'follow');
    return fetch(input, { ...init, headers, redirect: asked === 'follow' ? presenter.redirect : asked });
  };
  const headersOf = (input: string | URL | Request, init: RequestInit | undefined): Headers =>
    new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  /** One request; once more, with new headers, when the answer asks for it (a DPoP nonce). */
  const send = async (input: string | URL | Request, init: RequestInit | undefined, url: string, token: TokenSet): Promise<Response> => {
    const request: PresentedRequest = { method: init?.method ?? (input instanceof Request ? input.method : 'GET'), url };
    const headers = headersOf(input, init);
    const response = await sendOnce(input, init, request, token, headers);
    if (presenter.observe?.(response, request, headers) !== true || !requestIsReplayable(input, init)) return response;
    await response.body?.cancel().catch(() => undefined);
    const againHeaders = headersOf(input, init);
    const again = await sendOnce(input, init, request, token, againHeaders);
    presenter.observe(again, request, againHeaders);
    return again;
  };
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const token = await settings.token();
    const response = await send(input, init, url, token);
    if (!presenter.refused(response)) return response;
    const safeUrl = withoutQuery(url);
    if (!requestIsReplayable(input, init)) {
      settings.onRefused(safeUrl, false);
      return response;
    }
    const fresh = await settings.replace(token.accessToken);
    if (fresh === undefined) {
      settings.onRefused(safeUrl, false);
      return response;
    }
    await response.body?.cancel().catch(() => undefined);
    settings.onRefused(safeUrl, true);
    return send(input, init, url, fresh);
  };
}
