/** Internal: the local issuer's HTTP reading and writing. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenEndpointAnswer } from './token-endpoint.js';

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(value));
}

export function sendAnswer(res: ServerResponse, answer: TokenEndpointAnswer): void {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The request body as text, read up to `maxBodySize` bytes (`tooLarge` past it). */
export function readBody(req: IncomingMessage, maxBodySize: number): Promise<{ body: string; tooLarge: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodySize) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve({ body: tooLarge ? '' : Buffer.concat(chunks).toString('utf8'), tooLarge }));
    req.on('error', () => resolve({ body: '', tooLarge }));
    req.on('close', () => resolve({ body: tooLarge ? '' : Buffer.concat(chunks).toString('utf8'), tooLarge }));
  });
}

/** Every raw line of the header `name` (lower-case), in order: a header sent twice gives two lines. */
export function headerLines(rawHeaders: readonly string[], name: string): string[] {
  const lines: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if ((rawHeaders[i] as string).toLowerCase() === name) lines.push(rawHeaders[i + 1] as string);
  return lines;
}
