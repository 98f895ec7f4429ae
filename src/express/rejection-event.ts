/** Internal: the `auth.rejected` event of a request, built in one place for requireAuth and the guards. */
import type { BearerError } from '../errors/bearer-errors.js';
import type { AuthRequest } from './express-types.js';
import type { AuthRejectedEvent } from './require-auth-options.js';

/** The request path without its query (a query may carry secrets), bounded and printable. */
function pathOf(req: AuthRequest): string {
  const target = req.originalUrl ?? req.url ?? '/';
  const end = target.indexOf('?');
  const path = end === -1 ? target : target.slice(0, end);
  return path.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

export function rejectionEvent(req: AuthRequest, error: BearerError): AuthRejectedEvent {
  const event: AuthRejectedEvent = { type: 'auth.rejected', status: error.status, code: error.code, method: req.method ?? 'GET', path: pathOf(req) };
  const detail = error.detail;
  if (detail !== undefined) {
    if (detail.client !== undefined) event.client = detail.client;
    if (detail.claim !== undefined) event.claim = detail.claim;
    if (detail.expected !== undefined) event.expected = detail.expected;
    if (detail.received !== undefined) event.received = detail.received;
  }
  return event;
}
