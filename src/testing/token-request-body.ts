/**
 * Internal: parses a token request body, form-encoded (RFC 6749 appendix B) or JSON (as Auth0
 * accepts), into parameter lists.
 */

/** Parameters that may appear more than once (RFC 8707 `resource`). */
const REPEATABLE = new Set(['resource']);

export type ParsedParams = Map<string, string[]>;

export type BodyParseResult = { ok: true; params: ParsedParams } | { ok: false; description: string };

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function parseForm(body: string): ParsedParams {
  const params: ParsedParams = new Map();
  for (const [name, value] of new URLSearchParams(body)) {
    const list = params.get(name);
    if (list) list.push(value);
    else params.set(name, [value]);
  }
  return params;
}

function parseJson(body: string): BodyParseResult {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, description: 'the request body is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, description: 'the request body must be a JSON object' };
  }
  const params: ParsedParams = new Map();
  for (const [name, raw] of Object.entries(value as Record<string, unknown>)) {
    if (raw === null || raw === undefined) continue;
    if (typeof raw === 'string') params.set(name, [raw]);
    else if (Array.isArray(raw) && REPEATABLE.has(name) && raw.every((item) => typeof item === 'string')) {
      params.set(name, raw as string[]);
    } else {
      return { ok: false, description: `parameter "${name}" must be a string` };
    }
  }
  return { ok: true, params };
}

/** Parses the body according to its content type and rejects repeated parameters (RFC 6749 section 3.2). */
export function parseTokenRequestBody(contentType: string | undefined, body: string): BodyParseResult {
  const type = mediaType(contentType);
  let result: BodyParseResult;
  if (type === 'application/x-www-form-urlencoded') result = { ok: true, params: parseForm(body) };
  else if (type === 'application/json') result = parseJson(body);
  else {
    return {
      ok: false,
      description: 'the request body must be application/x-www-form-urlencoded or application/json',
    };
  }
  if (!result.ok) return result;
  for (const [name, values] of result.params) {
    if (values.length > 1 && !REPEATABLE.has(name)) {
      return { ok: false, description: `parameter "${name}" is included more than once` };
    }
  }
  return result;
}

/** The parameters as a plain object (a repeated parameter becomes an array). */
export function paramsToRecord(params: ParsedParams): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  for (const [name, values] of params) {
    // defineProperty: a parameter named "__proto__" is data, not the record's prototype.
    Object.defineProperty(record, name, { value: values.length === 1 ? values[0]! : [...values], enumerable: true, writable: true, configurable: true });
  }
  return record;
}
