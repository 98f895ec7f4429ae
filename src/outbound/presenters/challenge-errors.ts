/**
 * Internal: the one reading of a downstream's `WWW-Authenticate` (RFC 9110 section 11.6.1) the
 * presenters share: which error each challenge names (RFC 6750 section 3.1, RFC 9449 section 7.1).
 */

/** The `error` parameter of each challenge of a `WWW-Authenticate` value, by scheme (lower case). */
export function challengeErrors(header: string): Map<string, string | undefined> {
  const errors = new Map<string, string | undefined>();
  // auth-param values may be quoted strings containing commas: split only outside quotes
  const parts = header.match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? [];
  let scheme: string | undefined;
  for (const part of parts) {
    const withScheme = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:\s+(.*))?$/s.exec(part);
    let param = part;
    if (withScheme !== null && !/^\s*[^=\s]+\s*=/.test(part)) {
      scheme = withScheme[1]!.toLowerCase();
      if (!errors.has(scheme)) errors.set(scheme, undefined);
      param = withScheme[2] ?? '';
    }
    const error = /^\s*error\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/i.exec(param);
    if (scheme !== undefined && error !== null && errors.get(scheme) === undefined) errors.set(scheme, error[1] ?? error[2]);
  }
  return errors;
}
