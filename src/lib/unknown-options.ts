/**
 * Internal: refuses option names a function does not know, so that a misspelt option
 * (`clockTolerence`) fails at construction instead of being silently ignored.
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

/**
 * The message for the first own property of `options` that is not in `known`, e.g.
 * `unknown option "clockTolerence" (did you mean "clockTolerance"?)`, or `undefined` when all are
 * known. `known` is typed as a record of the options type's keys, so the compiler keeps it
 * complete.
 */
export function unknownOptionMessage(options: object, known: Readonly<Record<string, true>>): string | undefined {
  for (const name of Object.keys(options)) {
    if (Object.hasOwn(known, name)) continue;
    const printable = JSON.stringify(name.slice(0, 40));
    const lower = name.toLowerCase();
    const nearest = Object.keys(known)
      .map((candidate) => ({ candidate, score: distance(lower, candidate.toLowerCase()) }))
      .sort((x, y) => x.score - y.score)[0];
    const hint = nearest !== undefined && nearest.score <= 2 ? ` (did you mean "${nearest.candidate}"?)` : '';
    return `unknown option ${printable}${hint}`;
  }
  return undefined;
}
