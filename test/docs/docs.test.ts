/**
 * The documentation as a whole: README.md stays a short entry page, every relative link of
 * README.md, CHANGELOG.md, docs/*.md and bench/README.md reaches a file (and a heading, when it
 * names one), CHANGELOG.md keeps its shape, and the Jest example of docs/testing.md is this
 * repository's test/testing/readme-example.test.ts and passes, with the Jest configuration the
 * guide gives, in a project of its own.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { codeFiles, readDoc, requireBuild, ROOT, section } from '../docs-support.js';

const run = promisify(execFile);

const DOCS = [
  'README.md',
  'CHANGELOG.md',
  'bench/README.md',
  ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`),
];

/** The text outside fenced code blocks and inline code spans. */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The anchors GitHub gives the headings of a Markdown file (github-slugger's rules). */
function anchors(text: string): Set<string> {
  const result = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of text.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6} (.+)$/gm)) {
    const base = (match[1] as string).trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Every `[text](target)` and `![alt](target)` of a file's prose that is not an absolute URL. */
function relativeLinks(text: string): string[] {
  return [...prose(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((match) => match[1] as string)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe('the documentation files', () => {
  test('README.md stays an entry page: under 12 KB', () => {
    expect(statSync(join(ROOT, 'README.md')).size).toBeLessThan(12 * 1024);
  });

  test('the guides this test expects exist, and docs/README.md lists every one of them', () => {
    const index = readDoc('docs/README.md');
    for (const guide of ['inbound.md', 'outbound.md', 'redis.md', 'testing.md', 'transport.md', 'migration.md', 'example-api.md', 'architecture.md', 'observability.md']) {
      expect(DOCS).toContain(`docs/${guide}`);
      expect(index).toContain(`](${guide})`);
    }
    expect(index).toContain('](../bench/README.md)');
  });

  test.each(DOCS)('%s: every relative link reaches a file, and a heading when it names one', (doc) => {
    const broken: string[] = [];
    for (const link of relativeLinks(readDoc(doc))) {
      const [path, anchor] = link.split('#') as [string, string | undefined];
      const target = path === '' ? doc : normalize(join(dirname(doc), decodeURIComponent(path)));
      if (target.startsWith('..') || !existsSync(join(ROOT, target))) {
        broken.push(`${link} (no file ${target})`);
        continue;
      }
      if (anchor !== undefined && target.endsWith('.md') && !anchors(readDoc(target)).has(anchor)) {
        broken.push(`${link} (no heading #${anchor} in ${target})`);
      }
    }
    expect(broken).toEqual([]);
  });

  test('CHANGELOG.md has an Unreleased section grouped Security / Fixed / Added / Changed, one line per change; README.md links to it', () => {
    const unreleased = section(readDoc('CHANGELOG.md'), 'Unreleased');
    expect([...unreleased.matchAll(/^### (.+)$/gm)].map((match) => match[1])).toEqual(['Security', 'Fixed', 'Added', 'Changed']);
    for (const group of ['Security', 'Fixed', 'Added', 'Changed']) {
      const lines = section(unreleased, group).split('\n').slice(1).filter((line) => line.trim() !== '');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(/^- \S/);
    }
    expect(section(readDoc('README.md'), 'What changed')).toContain('](CHANGELOG.md)');
  });

  test('the link check sees links at all (README.md links to the guides)', () => {
    expect(relativeLinks(readDoc('README.md'))).toEqual(expect.arrayContaining(['docs/inbound.md', 'docs/README.md', 'bench/README.md', 'CHANGELOG.md']));
    expect(anchors('# A\n## `outboundAuth()`: downstream clients\n## A\n')).toEqual(new Set(['a', 'outboundauth-downstream-clients', 'a-1']));
  });
});

describe('docs/testing.md: the Jest example runs as written', () => {
  const blocks = codeFiles(readDoc('docs/testing.md'));

  test('its examples are the test file and the Jest configuration', () => {
    expect([...blocks.keys()].sort()).toEqual(['jest.config.cjs', 'test/orders.test.ts']);
  });

  test('the test file is test/testing/readme-example.test.ts, line for line (but its first, naming comment)', () => {
    const inRepository = readFileSync(join(ROOT, 'test/testing/readme-example.test.ts'), 'utf8');
    const body = (text: string) => text.slice(text.indexOf('\n') + 1);
    expect(body(blocks.get('test/orders.test.ts')!)).toBe(body(inRepository));
  });

  test('in a project of its own, with the guide\'s jest.config.cjs, the test passes against the BUILT package', async () => {
    requireBuild();
    const dir = mkdtempSync(join(tmpdir(), 'express-m2m-docs-jest-'));
    try {
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true }));
      mkdirSync(join(dir, 'node_modules/@swc'), { recursive: true });
      mkdirSync(join(dir, 'test'));
      symlinkSync(ROOT, join(dir, 'node_modules/express-m2m'));
      for (const name of ['express', 'supertest', '@swc/jest', '@swc/core']) symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
      for (const [name, code] of blocks) writeFileSync(join(dir, name), code);
      const jest = join(ROOT, 'node_modules/jest/bin/jest.js');
      const { stderr } = await run(process.execPath, [jest, '--ci', '--colors=false'], { cwd: dir, timeout: 60_000 });
      expect(stderr).toMatch(/Tests:\s+4 passed, 4 total/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
