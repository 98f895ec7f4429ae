/**
 * Internal: the "did you mean" part of the options kit. A misspelt option (`clockTolerence`,
 * `jwks.cacheMaxAgee`) fails at construction instead of being silently ignored.
 */

/** Edit distance of two short strings (option names), for the "did you mean" hint. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The known name nearest to `name` (case-insensitive; at most two edits away, or a third of its length), if any. */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of known) {
    const score = distance(lower, candidate.toLowerCase());
    if (best === undefined || score < best.score) best = { candidate, score };
  }
  return best !== undefined && best.score <= Math.max(2, Math.ceil(name.length / 3)) ? best.candidate : undefined;
}

/** The first own property name of `values` that is not in `known`, if any. */
export function firstUnknownName(values: object, known: ReadonlySet<string>): string | undefined {
  for (const name of Object.keys(values)) if (!known.has(name)) return name;
  return undefined;
}
