// `sluice state` (the built CLI, dist/src/cli.js) on real lmdb files: a local run of a flow with
// dedupe (by eventId) and latest (version per id) leaves its stores under .sluice-state in its
// working directory; `sluice state` prints a store's keys and bytes, a key's value, and exits 1
// for a key in no partition, 2 with a clear message (no stack) for a flow, store or files that are
// not there and for a store kept in memory. The same files copied into a Kafka source's layout
// (<state-dir>/<flow>/<store>/<partition>/data) are read per partition.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../src/package-root.ts';

const CLI = join(packageRoot, 'dist', 'src', 'cli.js');
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SLUICE_') && name !== 'KAFKA_BROKERS'));

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function sluice(cwd: string, ...args: string[]): Result {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env, timeout: 60_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const RULES = 'rules { type = object, required = [id, eventId, version], properties { id { type = string }, eventId { type = string }, version { type = integer } } }';
const line = (id: string, eventId: string, version: number) => JSON.stringify({ id, eventId, version });

let dir = '';
const test = suite('sluice state: a store read from its files');

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-state-cli-'));
  writeFileSync(join(dir, 'in.ndjson'), [line('a', 'e1', 1), line('b', 'e2', 5), line('a', 'e3', 3), line('a', 'e1', 9), line('b', 'e4', 2), line('7', 'e5', 1), ''].join('\n'));
  const flow = (source: string) => [
    'log.level = warn',
    'progress = off',
    'flows.items {',
    '  on-invalid = drop',
    `  ${RULES}`,
    '  stages = [ { kind = dedupe, key = eventId, store = seen }, { kind = latest, key = id, version = version, store = versions }, { kind = dedupe, key = id, store = recent, backend = memory } ]',
    `  ${source}`,
    `  sink { kind = file, path = "${join(dir, 'out.ndjson')}" }`,
    '}',
  ].join('\n');
  writeFileSync(join(dir, 'local.conf'), flow(`source { kind = file, path = "${join(dir, 'in.ndjson')}" }`));
  writeFileSync(join(dir, 'kafka.conf'), flow('source { kind = kafka, brokers = "127.0.0.1:9", topic = items, group-id = items, state-dir = kafka-state }'));
  const run = sluice(dir, 'run', '--config', join(dir, 'local.conf'));
  assert.is(run.status, 0, run.stderr);
  assert.ok(statSync(join(dir, '.sluice-state', 'items', 'versions', 'data.mdb')).size > 0, 'the run left its lmdb files');
});

test.after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const local = (...args: string[]) => sluice(dir, 'state', '--config', join(dir, 'local.conf'), '--flow', 'items', ...args);

test('a store\'s keys and bytes; a key\'s value and partition', () => {
  const size = local('--store', 'versions');
  assert.is(size.status, 0, size.stderr);
  const body = JSON.parse(size.stdout) as { store: string; backend: string; partitions: { partition: number; keys: number; bytes: number }[] };
  assert.equal([body.store, body.backend, body.partitions.map((p) => [p.partition, p.keys])], ['versions', 'lmdb', [[0, 3]]]);
  assert.ok(body.partitions[0]!.bytes > 0);
  const a = local('--store', 'versions', '--key', 'a');
  assert.is(a.status, 0, a.stderr);
  assert.equal(JSON.parse(a.stdout), { flow: 'items', store: 'versions', partition: 0, key: 'a', value: { version: 3 } }, 'the duplicate e1 (version 9) never reached latest');
  assert.equal(JSON.parse(local('--store', 'versions', '--key', 'b').stdout).value, { version: 5 }, 'a stale version is not stored');
  assert.equal(JSON.parse(local('--store', 'versions', '--key', '"7"').stdout).value, { version: 1 }, 'the string "7" as JSON text');
  const seen = JSON.parse(local('--store', 'seen', '--key', 'e4').stdout) as { value: { firstSeen: string; firstSeenMs: number } };
  assert.is(Date.parse(seen.value.firstSeen), seen.value.firstSeenMs);
});

test('a key in no partition: exit 1 naming the partitions read', () => {
  const missing = local('--store', 'versions', '--key', '7'); // the number 7: the stage stored the string "7"
  assert.is(missing.status, 1);
  assert.is(missing.stdout, '');
  assert.match(missing.stderr, `sluice: key "7" is in no partition of store versions read here (0 under ${join(dir, '.sluice-state', 'items', 'versions')})`);
});

test('the user\'s mistakes: exit 2, a clear message, no stack', () => {
  const cases: [string[], string][] = [
    [['--flow', 'nope', '--store', 'versions'], 'has no flow nope (flows: items)'],
    [['--flow', 'items', '--store', 'nope'], 'flow items has no store nope (its stores: seen, versions, recent)'],
    [['--flow', 'items', '--store', 'recent'], 'store recent of flow items is kept in memory: only the running process holds it: ask it, GET /state/items/recent on the ops endpoint of the running process'],
    [['--flow', 'items', '--store', 'versions', '--state-dir', join(dir, 'elsewhere')], `no files of store versions under ${join(dir, 'elsewhere', 'items', 'versions')}: the flow has not run with this state dir (give --state-dir)`],
    [['--flow', 'items', '--store', 'versions', '--partition', '-1'], 'expected a partition number'],
    [['--flow', 'items', '--store', 'versions', '--key', 'a', '--from', '0'], 'store versions of flow items is not windowed'],
  ];
  for (const [args, message] of cases) {
    const result = sluice(dir, 'state', '--config', join(dir, 'local.conf'), ...args);
    assert.is(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.not.match(result.stderr, /\n\s+at /, 'no stack');
  }
});

test('a Kafka source\'s layout: a store per partition, read per partition', () => {
  for (const store of ['versions', 'seen']) {
    const target = join(dir, 'kafka-state', 'items', store, '1', 'data');
    mkdirSync(target, { recursive: true });
    cpSync(join(dir, '.sluice-state', 'items', store, 'data.mdb'), join(target, 'data.mdb'));
  }
  const kafka = (...args: string[]) => sluice(dir, 'state', '--config', join(dir, 'kafka.conf'), '--flow', 'items', ...args);
  const size = JSON.parse(kafka('--store', 'versions').stdout) as { partitions: { partition: number; keys: number }[] };
  assert.equal(size.partitions.map((p) => [p.partition, p.keys]), [[1, 3]]);
  assert.equal(JSON.parse(kafka('--store', 'versions', '--key', 'a', '--partition', '1').stdout).partition, 1);
  const other = kafka('--store', 'versions', '--key', 'a', '--partition', '0');
  assert.is(other.status, 2);
  assert.match(other.stderr, 'no files of store versions of partition 0 under');
  assert.match(other.stderr, 'or its partitions are kept by another instance (ask it, GET /state/items/versions/a on the ops endpoint of the running process)');
  assert.ok(readFileSync(join(dir, 'out.ndjson'), 'utf8').split('\n').filter((l) => l !== '').length === 3, 'the run wrote a, b and 7 (a again is dropped by recent, after latest stored its version 3)');
  // files a flow left open before the machine went down may be torn: not read
  writeFileSync(join(dir, 'kafka-state', 'items', 'versions', '1', 'checkpoint.json'), JSON.stringify({ changelog: 'g-versions-changelog', partition: 1, offset: '3', boot: 'an-earlier-boot', closed: false }));
  const torn = kafka('--store', 'versions');
  assert.is(torn.status, 2);
  assert.match(torn.stderr, 'was left open when the machine went down, and may be torn: not read (the flow rebuilds it from its changelog when it starts)');
  assert.not.match(torn.stderr, '    at ');
});

test.run();
