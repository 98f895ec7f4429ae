/**
 * Internal: fault injection for the local issuer's endpoints (what a broken authorization server
 * does: 5xx, 429, HTML, garbage, slow answers, hangs, dropped connections).
 */
import type { ServerResponse } from 'node:http';
import type { Fault, LocalIssuerEndpoint } from './types.js';

const ENDPOINTS: readonly LocalIssuerEndpoint[] = ['discovery', 'jwks', 'token', 'introspection'];

function checkFault(fault: Fault): Fault {
  const where = 'setFault';
  if (typeof fault !== 'object' || fault === null) throw new TypeError(`${where}: "fault" must be an object or null`);
  const { status, body, headers, delay, times } = fault;
  if (status !== undefined && (!Number.isInteger(status) || status < 100 || status > 599)) {
    throw new TypeError(`${where}: "status" must be an HTTP status code (100-599)`);
  }
  if (body !== undefined && typeof body !== 'string') throw new TypeError(`${where}: "body" must be a string`);
  if (headers !== undefined && (typeof headers !== 'object' || headers === null)) {
    throw new TypeError(`${where}: "headers" must be an object of strings`);
  }
  if (delay !== undefined && (!Number.isFinite(delay) || delay < 0)) {
    throw new TypeError(`${where}: "delay" must be a non-negative number of milliseconds`);
  }
  if (times !== undefined && (!Number.isInteger(times) || times < 1)) {
    throw new TypeError(`${where}: "times" must be a positive integer`);
  }
  return { ...fault, headers: headers ? { ...headers } : undefined };
}

/** The faults currently set, per endpoint. */
export class FaultTable {
  private readonly faults = new Map<LocalIssuerEndpoint, { fault: Fault; remaining: number | undefined }>();

  set(endpoint: LocalIssuerEndpoint, fault: Fault | null | undefined): void {
    if (!ENDPOINTS.includes(endpoint)) {
      throw new TypeError(`setFault: "endpoint" must be one of ${ENDPOINTS.join(', ')}, got ${JSON.stringify(endpoint)}`);
    }
    if (fault === null || fault === undefined) {
      this.faults.delete(endpoint);
      return;
    }
    const checked = checkFault(fault);
    this.faults.set(endpoint, { fault: checked, remaining: checked.times });
  }

  clear(): void {
    this.faults.clear();
  }

  /** The fault for this request, if any (consumes one of its `times`). */
  take(endpoint: LocalIssuerEndpoint): Fault | undefined {
    const entry = this.faults.get(endpoint);
    if (!entry) return undefined;
    if (entry.remaining !== undefined) {
      entry.remaining -= 1;
      if (entry.remaining <= 0) this.faults.delete(endpoint);
    }
    return entry.fault;
  }
}

/** Whether the fault replaces the answer (as opposed to only delaying it). */
export function replacesAnswer(fault: Fault): boolean {
  return Boolean(fault.hang || fault.destroy || fault.html || fault.status !== undefined || fault.body !== undefined);
}

function looksLikeJson(body: string): boolean {
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}

const HTML_PAGE =
  '<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Please sign in to the network</h1></body></html>';

/** Writes the replaced answer of a fault that is not `hang` or `destroy`. */
export function writeFaultAnswer(res: ServerResponse, fault: Fault): void {
  let status: number;
  let body: string;
  let contentType: string;
  if (fault.html) {
    status = fault.status ?? 200;
    body = fault.body ?? HTML_PAGE;
    contentType = 'text/html; charset=utf-8';
  } else if (fault.body !== undefined) {
    status = fault.status ?? 200;
    body = fault.body;
    contentType = looksLikeJson(body) ? 'application/json' : 'text/plain; charset=utf-8';
  } else {
    status = fault.status ?? 500;
    const error = status === 429 || status === 503 ? 'temporarily_unavailable' : 'server_error';
    body = JSON.stringify({ error, error_description: `injected fault (HTTP ${status})` });
    contentType = 'application/json';
  }
  const headers: Record<string, string> = { 'content-type': contentType, 'cache-control': 'no-store' };
  for (const [name, value] of Object.entries(fault.headers ?? {})) headers[name.toLowerCase()] = String(value);
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * Applies a fault: `'answered'` when the fault answered (or never will); otherwise the headers
 * to add to the normal answer (a fault with only `delay` and/or `headers` keeps the answer).
 */
export async function applyFaultTo(
  res: ServerResponse,
  fault: Fault | undefined,
  issuer: { sleep: (ms: number) => Promise<void>; closing: () => boolean },
): Promise<'answered' | Record<string, string>> {
  if (!fault) return {};
  if (fault.hang) return 'answered';
  if (fault.delay) await issuer.sleep(fault.delay);
  if (issuer.closing()) return 'answered';
  if (fault.destroy) {
    res.socket?.destroy();
    return 'answered';
  }
  if (replacesAnswer(fault)) {
    writeFaultAnswer(res, fault);
    return 'answered';
  }
  const extra: Record<string, string> = {};
  for (const [name, value] of Object.entries(fault.headers ?? {})) extra[name.toLowerCase()] = String(value);
  return extra;
}
