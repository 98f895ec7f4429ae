/** Packs this repository as npm would publish it and unpacks the tarball: what users install. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `npm pack` (the built dist/ as it is) into `dir`; returns the unpacked folder, `dir/package`. */
export async function packAndUnpack(root: string, dir: string): Promise<string> {
  // --ignore-scripts: `prepare` would rebuild dist/ under the other tests' feet.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root });
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  await run('tar', ['-xzf', join(dir, filename), '-C', dir]);
  return join(dir, 'package');
}
