/**
 * Internal: the operator's side of a rejection (`RejectionDetail`): who the verified token was
 * issued to and, for a mismatch, what was expected and what came, as printable, bounded text.
 */
import type { RejectionDetail } from '../errors/bearer-errors.js';

const MAX_SHOWN = 200;

/** A value as JSON (strings as they are), printable ASCII, at most 200 characters. */
export function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > MAX_SHOWN ? `${printable.slice(0, MAX_SHOWN)}...` : printable;
}

/** The client a token was issued to: `client_id` (RFC 9068), else `azp`, else `sub`, when a string. */
export function clientOf(payload: Readonly<Record<string, unknown>>): string | undefined {
  for (const claim of ['client_id', 'azp', 'sub'] as const) {
    const value = payload[claim];
    if (typeof value === 'string') return shown(value);
  }
  return undefined;
}

/** The detail of a claim that did not match. */
export function mismatch(payload: Readonly<Record<string, unknown>>, claim: string, expected: unknown, received: unknown): RejectionDetail {
  const detail: { client?: string; claim: string; expected?: string; received?: string } = { claim };
  const client = clientOf(payload);
  if (client !== undefined) detail.client = client;
  if (expected !== undefined) detail.expected = shown(expected);
  if (received !== undefined) detail.received = shown(received);
  return detail;
}
