#!/usr/bin/env node
// `npm test`: makes sure the build the tests need exists, then runs every uvu suite under test/
// in one process (TypeScript through tsx). Extra arguments are a file pattern, e.g.
// `npm test -- core/` runs the suites whose path matches.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (command, args) => spawnSync(command, args, { cwd: root, stdio: 'inherit' }).status ?? 1;

const built = ['build/sluice-core.wasm', 'build/sluice-core-scalar.wasm', 'dist/src/cli.js'].every((f) => existsSync(join(root, f)));
if (!built && run('npm', ['run', 'build']) !== 0) process.exit(1);

const pattern = process.argv[2] ?? '';
const escaped = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
process.exit(run(process.execPath, ['--import', 'tsx', 'node_modules/uvu/bin.js', 'test', `${escaped}.*\\.test\\.ts$`]));
