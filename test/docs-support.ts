/**
 * Reading the documentation's examples, for the tests that keep them true (README.md, docs/*.md):
 * every fenced `js`/`ts` block whose first line is `// <file name>` is an example that must run as
 * written. This module finds them, with the "It prints ..." sentence that may follow, and lays out
 * a folder where they run against the BUILT package (`node_modules/express-m2m` linked to the
 * repository, like an installed dependency; run `npm run build` first, `npm test` does).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..');

/** A documentation file of the repository, e.g. `README.md` or `docs/inbound.md`. */
export function readDoc(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/**
 * The text of the section `heading` (without the `#` marks, at any level) up to the next heading
 * of the same or a higher level. Throws when there is no such section.
 */
export function section(text: string, heading: string): string {
  const lines = text.split('\n');
  let fence = false;
  let start = -1;
  let level = 0;
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] as string;
    if (line.startsWith('```')) fence = !fence;
    if (fence) continue;
    const match = /^(#+) (.*)$/.exec(line);
    if (match === null) continue;
    const depth = (match[1] as string).length;
    if (start === -1) {
      if (match[2] === heading) {
        start = i;
        level = depth;
      }
    } else if (depth <= level) {
      return lines.slice(start, i).join('\n');
    }
  }
  if (start === -1) throw new Error(`no section "${heading}"`);
  return lines.slice(start).join('\n');
}

/** An example of the documentation: its code (first line included) and what the text says it prints. */
export interface DocExample {
  code: string;
  /** The backtick-quoted strings of the "It prints ..." sentence right after the block; empty without one. */
  printed: string[];
}

/** The examples of `text` (blocks starting with a `// <file name>` line), by file name. */
export function examples(text: string): Map<string, DocExample> {
  const result = new Map<string, DocExample>();
  for (const match of text.matchAll(/```(?:js|ts)\n\/\/ (\S+)\n([\s\S]*?)```\n(?:\nIt prints ([^\n]+(?:\n[^\n]+)*)\n)?/g)) {
    const name = match[1] as string;
    if (result.has(name)) throw new Error(`two examples named ${name}`);
    const printed = [...(match[3] ?? '').matchAll(/`([^`]+)`/g)].map((quoted) => quoted[1] as string);
    result.set(name, { code: `// ${name}\n${match[2] as string}`, printed });
  }
  return result;
}

/** The code of the examples of `text`, by file name. */
export function codeFiles(text: string): Map<string, string> {
  return new Map([...examples(text)].map(([name, example]) => [name, example.code]));
}

/** Throws a clear error when the package is not built (the examples import `dist/`). */
export function requireBuild(): void {
  if (!existsSync(join(ROOT, 'dist/index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (`npm test` does)');
  }
}

/**
 * A fresh folder outside the repository where examples run as in a project of their own: an ESM
 * `package.json`, `node_modules/express-m2m` linked to the repository, and the given packages of
 * the repository's `node_modules` linked too (those that are installed).
 */
export function exampleFolder(prefix: string, packages: readonly string[] = []): string {
  requireBuild();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules/express-m2m'));
  for (const name of packages) {
    const source = join(ROOT, 'node_modules', name);
    if (!existsSync(source)) continue;
    mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
    symlinkSync(source, join(dir, 'node_modules', name));
  }
  return dir;
}

/** The type packages an Express example needs to type-check under strict. */
export const EXPRESS_TYPES = [
  'express', '@types/express', '@types/node', '@types/express-serve-static-core', '@types/qs', '@types/serve-static',
  '@types/range-parser', '@types/send', '@types/mime', '@types/http-errors', '@types/connect', '@types/body-parser',
];
