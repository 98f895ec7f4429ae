/**
 * docs/testing.md "Jest configuration", checked in projects that install the packed package for
 * real (`node_modules/express-m2m` is the unpacked tarball, so `transformIgnorePatterns` sees the
 * path an npm install has). The guide's `jest.config.cjs` and its Jest example are used as written.
 * The dev tools (jest, @swc/jest, @swc/core, express, supertest) and the package's dependencies
 * (jose) are linked from this repository's node_modules, where `npm install` puts them.
 * The plain-JavaScript project has no TypeScript in reach.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { packAndUnpack } from './pack.js';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');
const readme = readFileSync(join(root, 'docs/testing.md'), 'utf8');
let dir: string;
let unpacked: string;

/** The first fenced block of `lang` after `heading` in the README. */
function readmeBlock(heading: string, lang: string): string {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README has no "${heading}"`);
  const block = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme.slice(start));
  if (!block) throw new Error(`README "${heading}" has no ${lang} block`);
  return block[1]!;
}
const readmeJestConfig = () => readmeBlock('## Jest configuration', 'js');
const readmeJestTest = () => readmeBlock('## A Jest test that runs as written', 'ts');

/** The README example, in plain JavaScript (CommonJS `require`, as in a project without "type"). */
const plainJsTest = `
const express = require('express');
const request = require('supertest');
const { authErrorHandler, requireAuth, requireScopes } = require('express-m2m');
const { createLocalIssuer } = require('express-m2m/testing');

const AUDIENCE = 'https://orders.example.com';
let issuer;
let auth;
let app;

beforeAll(async () => {
  issuer = await createLocalIssuer({
    clients: [{ clientId: 'billing', clientSecret: 'billing-secret', audiences: [AUDIENCE], scopes: ['read:orders'] }],
  });
  auth = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE });
  app = express();
  app.get('/orders', auth, requireScopes('read:orders'), (req, res) => {
    res.json({ client: req.auth.payload.sub });
  });
  app.use(authErrorHandler());
});

afterAll(async () => {
  auth.close();
  await issuer.close();
});

test('accepts a token from the client-credentials grant', async () => {
  const response = await fetch(issuer.tokenEndpoint, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'billing', client_secret: 'billing-secret', audience: AUDIENCE }),
  });
  const { access_token } = await response.json();
  await request(app).get('/orders').set('Authorization', 'Bearer ' + access_token).expect(200, { client: 'billing@clients' });
});

test('rejects a token without the scope with 403 insufficient_scope', async () => {
  const token = await issuer.accessToken({ clientId: 'billing', audience: AUDIENCE, scope: '' });
  const res = await request(app).get('/orders').set('Authorization', 'Bearer ' + token);
  expect(res.status).toBe(403);
  expect(res.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
});
`;

/** The same with ES module syntax, in a .test.mjs (Jest still loads it through SWC as CommonJS). */
const plainMjsTest = plainJsTest
  .replace("const express = require('express');", "import express from 'express';")
  .replace("const request = require('supertest');", "import request from 'supertest';")
  .replace("const { authErrorHandler, requireAuth, requireScopes } = require('express-m2m');", "import { authErrorHandler, requireAuth, requireScopes } from 'express-m2m';")
  .replace("const { createLocalIssuer } = require('express-m2m/testing');", "import { createLocalIssuer } from 'express-m2m/testing';");

const links = ['jest', '@swc/jest', '@swc/core', 'express', 'supertest', 'jose'];

function project(name: string, files: Record<string, string>, type?: 'module'): string {
  const folder = join(dir, name);
  mkdirSync(join(folder, 'node_modules/@swc'), { recursive: true });
  cpSync(unpacked, join(folder, 'node_modules/express-m2m'), { recursive: true });
  for (const link of links) symlinkSync(join(root, 'node_modules', link), join(folder, 'node_modules', link));
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name, private: true, type, scripts: { test: 'jest' } }));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(folder, file, '..'), { recursive: true });
    writeFileSync(join(folder, file), text);
  }
  return folder;
}

interface JestRun { ok: boolean; passed: number; failed: number; suites: number; output: string }

async function jest(folder: string): Promise<JestRun> {
  const args = [join(folder, 'node_modules/jest/bin/jest.js'), '--ci', '--runInBand', '--cacheDirectory', join(folder, '.jest-cache'),
    '--json', '--outputFile', join(folder, 'result.json')];
  const { code, output } = await run(process.execPath, args, { cwd: folder, timeout: 120_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, output: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
  );
  const result = JSON.parse(readFileSync(join(folder, 'result.json'), 'utf8')) as {
    numPassedTests: number; numFailedTests: number; numTotalTestSuites: number; testResults: Array<{ message: string }>;
  };
  return {
    ok: code === 0, passed: result.numPassedTests, failed: result.numFailedTests, suites: result.numTotalTestSuites,
    output: output + result.testResults.map((suite) => suite.message).join('\n'),
  };
}

/** The README's config with `transformIgnorePatterns` set to `patterns`. */
function configWith(patterns: string[]): string {
  const config = readmeJestConfig();
  const changed = config.replace(/transformIgnorePatterns: \[.*\]/, `transformIgnorePatterns: ${JSON.stringify(patterns)}`);
  if (changed === config) throw new Error('README Jest config has no transformIgnorePatterns line');
  return changed;
}

const runs: Record<string, Promise<JestRun>> = {};

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (`npm test` does)');
  }
  dir = mkdtempSync(join(tmpdir(), 'express-m2m-jest-'));
  unpacked = await packAndUnpack(root, dir);
  const javascript = project('plain-js', {
    'jest.config.cjs': readmeJestConfig(),
    'test/orders.test.js': plainJsTest,
    'test/orders.test.mjs': plainMjsTest,
  });
  const javascriptModule = project('plain-js-type-module', {
    'jest.config.cjs': readmeJestConfig(),
    'test/orders.test.js': plainMjsTest,
  }, 'module');
  const typescript = project('typescript', { 'jest.config.cjs': readmeJestConfig(), 'test/orders.test.ts': readmeJestTest() });
  const withoutPackage = project('without-express-m2m-pattern', {
    'jest.config.cjs': configWith(['/node_modules/(?!(jose)/)']), 'test/orders.test.js': plainJsTest,
  });
  const withoutJose = project('without-jose-pattern', {
    'jest.config.cjs': configWith(['/node_modules/(?!(express-m2m)/)']), 'test/orders.test.js': plainJsTest,
  });
  // Two at a time: each is a whole Jest run.
  runs.javascript = jest(javascript);
  runs.typescript = jest(typescript);
  await Promise.allSettled([runs.javascript, runs.typescript]);
  runs.javascriptModule = jest(javascriptModule);
  runs.withoutPackage = jest(withoutPackage);
  await Promise.allSettled([runs.javascriptModule, runs.withoutPackage]);
  runs.withoutJose = jest(withoutJose);
  await runs.withoutJose.catch(() => undefined);
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the plain-JavaScript project has no TypeScript it could use', () => {
  const paths = [join(dir, 'plain-js')];
  expect(require.resolve('supertest', { paths })).toMatch(/supertest/); // the lookup itself works
  expect(() => require.resolve('typescript', { paths })).toThrow(/annot (find|resolve) module 'typescript'/);
});

test("plain JavaScript: the README's jest.config.cjs runs a .test.js (require) and a .test.mjs (import)", async () => {
  const result = await runs.javascript!;
  expect({ ok: result.ok, suites: result.suites, passed: result.passed, failed: result.failed })
    .toEqual({ ok: true, suites: 2, passed: 4, failed: 0 });
});

test('plain JavaScript with "type": "module": the same config runs a .test.js written with import', async () => {
  const result = await runs.javascriptModule!;
  expect({ ok: result.ok, suites: result.suites, passed: result.passed, failed: result.failed })
    .toEqual({ ok: true, suites: 1, passed: 2, failed: 0 });
});

test("TypeScript: the README's jest.config.cjs runs the README's test file as written", async () => {
  const result = await runs.typescript!;
  expect({ ok: result.ok, suites: result.suites, passed: result.passed, failed: result.failed })
    .toEqual({ ok: true, suites: 1, passed: 4, failed: 0 });
});

test('without express-m2m in transformIgnorePatterns, Jest cannot load it', async () => {
  const result = await runs.withoutPackage!;
  expect(result.ok).toBe(false);
  expect(result.output).toMatch(/Must use import to load ES Module: \S*\/node_modules\/express-m2m\/dist\/index\.js/);
});

test('without jose in transformIgnorePatterns, Jest cannot load it', async () => {
  const result = await runs.withoutJose!;
  expect(result.ok).toBe(false);
  expect(result.output).toMatch(/Must use import to load ES Module: \S*\/node_modules\/jose\/dist\/webapi\/index\.js/);
});
