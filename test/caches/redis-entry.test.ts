/**
 * README promise: `express-m2m` never loads ioredis; only `express-m2m/redis` does. Checked by
 * following every relative import from src/index.ts.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)]
    .filter((match) => !/^\s*(?:import|export)\s+type\s/.test(match[0]))
    .map((match) => match[1] as string);
}

function graph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith('.')) queue.push(join(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else packages.add(specifier);
    }
  }
  return { files, packages };
}

describe('express-m2m does not load ioredis; express-m2m/redis does', () => {
  it('the main entry\'s runtime import graph has no ioredis', () => {
    const { files, packages } = graph(join(root, 'src/index.ts'));
    expect(files.has(join(root, 'src/outbound/client-credentials.ts'))).toBe(true);
    expect(packages.has('ioredis')).toBe(false);
    expect([...files].some((file) => file.includes('/caches/redis/'))).toBe(false);
  });

  it('the redis entry imports ioredis', () => {
    expect(graph(join(root, 'src/redis.ts')).packages.has('ioredis')).toBe(true);
  });
});
