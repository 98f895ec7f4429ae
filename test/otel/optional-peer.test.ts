/**
 * package.json: `@opentelemetry/api` is an optional peer dependency. Only `express-m2m/otel`
 * imports it; the other entries never load it (checked on the import graph of the sources, and
 * on the built package in test/package).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = join(__dirname, '../..');

/** Every module specifier a source file imports (static imports and re-exports, dynamic imports). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|(?:^|\n)\s*import\s+'([^']+)'/g)) {
    found.push((match[1] ?? match[2] ?? match[3]) as string);
  }
  return found;
}

/** The packages the import graph of `entry` reaches. */
function packagesReached(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of specifiers(file)) {
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] as string));
    }
  };
  visit(join(root, entry));
  return packages;
}

describe('@opentelemetry/api is loaded by express-m2m/otel only', () => {
  test.each(['src/index.ts', 'src/extend.ts', 'src/testing/index.ts', 'src/redis.ts'])('%s never imports it', (entry) => {
    const reached = packagesReached(entry);
    expect([...reached].filter((name) => name.startsWith('@opentelemetry/'))).toEqual([]);
  });

  test('the walk sees packages: src/index.ts reaches jose, src/otel.ts @opentelemetry/api (the check above can fail)', () => {
    expect(packagesReached('src/index.ts').has('jose')).toBe(true);
    expect(packagesReached('src/otel.ts').has('@opentelemetry/api')).toBe(true);
  });
});
