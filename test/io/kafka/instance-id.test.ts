// The instance id kept in the state directory (src/io/kafka/instance-id.ts), on real files: kept
// across runs, one per group, not shared with a live holder (another process, or another source of
// this one), taken over from a dead one, and this run's own when the directory cannot be written.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { persistentInstanceId } from '../../../src/io/kafka/instance-id.ts';

const test = suite('kafka: instance id kept in the state directory');
let dir = '';
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-instance-id-'));
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

test('written on the first run, the same on the next; one per group', () => {
  const first = persistentInstanceId(dir, 'group-a');
  assert.is(first.reused, false);
  assert.is(readFileSync(join(dir, 'group-a.instance-id'), 'utf8').trim(), first.id);
  first.release();
  const next = persistentInstanceId(dir, 'group-a');
  assert.equal([next.id, next.reused], [first.id, true]);
  const other = persistentInstanceId(dir, 'group-b');
  assert.is.not(other.id, first.id);
  next.release();
  other.release();
});

test('held by a live holder: this run gets an id of its own, the file is left as it is', () => {
  const holder = persistentInstanceId(dir, 'g');
  const twin = persistentInstanceId(dir, 'g');
  assert.is.not(twin.id, holder.id);
  assert.is(twin.reused, false);
  twin.release();
  holder.release();
  // a live process of another pid (this test's parent) holds it
  writeFileSync(join(dir, 'g.instance-id.lock'), String(process.ppid));
  const blocked = persistentInstanceId(dir, 'g');
  assert.is.not(blocked.id, holder.id);
  assert.is(readFileSync(join(dir, 'g.instance-id'), 'utf8').trim(), holder.id);
});

test('a lock left by a dead process is taken over', () => {
  const first = persistentInstanceId(dir, 'g');
  first.release();
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(join(dir, 'g.instance-id.lock'), dead.stdout);
  const next = persistentInstanceId(dir, 'g');
  assert.equal([next.id, next.reused], [first.id, true]);
  assert.is(readFileSync(join(dir, 'g.instance-id.lock'), 'utf8'), String(process.pid));
  next.release();
});

test('a directory that cannot be made: this run\'s own id', () => {
  const file = join(dir, 'a-file');
  writeFileSync(file, '');
  const own = persistentInstanceId(join(file, 'state'), 'g');
  assert.match(own.id, /^[0-9a-f-]{36}$/);
  assert.is(own.reused, false);
});

test.run();
