import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const benchDir = dirname(dirname(fileURLToPath(import.meta.url)));
export const rootDir = dirname(benchDir);
export const resultsDir = join(benchDir, 'results');
/** Path of a file in the built library (dist/). */
export const distPath = (rel) => join(rootDir, 'dist', rel);
