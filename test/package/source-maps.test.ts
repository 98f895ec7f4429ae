/**
 * The package ships source maps with the TypeScript sources embedded (`inlineSources`), so that
 * `node --enable-source-maps` and debuggers show the original code: every map in the real tarball
 * must point at a file in the tarball or carry the source itself, and every `sourceMappingURL`
 * must point at a map in the tarball.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { packAndUnpack } from './pack.js';

const root = resolve(__dirname, '../..');
let dir: string;
let files: string[]; // paths inside the package, posix-style

function walk(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(folder, entry.name)) : [join(folder, entry.name)]);
}

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (`npm test` does)');
  }
  dir = mkdtempSync(join(tmpdir(), 'express-m2m-pack-'));
  const pkg = await packAndUnpack(root, dir);
  files = walk(pkg).map((file) => relative(pkg, file).split('\\').join('/'));
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const read = (path: string) => readFileSync(join(dir, 'package', path), 'utf8');

test('every shipped .js names a map that is shipped, next to it', () => {
  const scripts = files.filter((file) => file.endsWith('.js'));
  expect(scripts.length).toBeGreaterThan(10);
  const problems = scripts.flatMap((file) => {
    const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(read(file))?.[1];
    if (url === undefined) return [`${file}: no sourceMappingURL`];
    return files.includes(posix.join(posix.dirname(file), url)) ? [] : [`${file}: ${url} is not in the package`];
  });
  expect(problems).toEqual([]);
});

test("every shipped map's sources are shipped or embedded, and embedded ones are this repository's sources", () => {
  const maps = files.filter((file) => file.endsWith('.map'));
  expect(maps.length).toBeGreaterThan(10);
  const problems: string[] = [];
  for (const file of maps) {
    const map = JSON.parse(read(file)) as { sources: string[]; sourcesContent?: Array<string | null>; sourceRoot?: string };
    map.sources.forEach((source, i) => {
      const inPackage = posix.join(posix.dirname(file), map.sourceRoot ?? '', source);
      const embedded = map.sourcesContent?.[i];
      if (typeof embedded === 'string') {
        // The embedded text is the file it names, as it is in the repository (not a stale build).
        const original = resolve(root, dirname(file), map.sourceRoot ?? '', source);
        if (!existsSync(original) || readFileSync(original, 'utf8') !== embedded) problems.push(`${file}: embedded ${source} differs from ${relative(root, original)}`);
      } else if (!files.includes(inPackage)) {
        problems.push(`${file}: ${source} is neither embedded nor in the package`);
      }
    });
  }
  expect(problems).toEqual([]);
});
