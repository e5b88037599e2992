// The installed package's root directory, found from this module's location so that it is the
// same whether Sluice runs from src/ (Deno, tsx) or from dist/ (node).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SluiceError } from './errors.ts';

function find(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'sluice') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new SluiceError('SLC_IO', `cannot find the sluice package root (its package.json) above ${fileURLToPath(import.meta.url)}: a broken installation`);
    dir = parent;
  }
}

export const packageRoot = find();
