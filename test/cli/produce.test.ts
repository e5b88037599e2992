// `sluice produce` against a real broker: a line larger than the topic accepts (max.message.bytes)
// is skipped and named (line, size, the topic's limit), every other line is written once, exit 1;
// no stack trace, no exit 70.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../src/package-root.ts';
import { brokerList, childEnv, CLI, ensureBuilt, kcat, requireEnvironment, uniqueNames } from '../io/kafka/harness.ts';

const unique = uniqueNames('produce');
let dir = '';

test.before(() => {
  requireEnvironment();
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sluice-produce-'));
});

test.after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('produce skips a line larger than the topic accepts, naming it, and writes every other line once (exit 1)', async () => {
  const topic = unique('small');
  const maxMessageBytes = 4096;
  const admin = new kafkajs.Kafka({ brokers: brokerList, logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: String(maxMessageBytes) }] }] });
  } finally {
    await admin.disconnect();
  }
  const large = JSON.stringify({ id: 'large', text: 'x'.repeat(10_000) });
  const lines = ['{"id":"a"}', '{"id":"b"}', '', large, '{"id":"c"}'];
  const file = join(dir, 'in.ndjson');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const r = spawnSync(process.execPath, [CLI, 'produce', '-b', brokerList.join(','), '-t', topic, '-f', file, '--batch-size', '10'], { cwd: packageRoot, env: childEnv(), encoding: 'utf8', timeout: 120_000 });
  const explain = `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  assert.is(r.status, 1, explain);
  assert.match(r.stdout, `3 messages to ${topic}`, explain);
  assert.match(r.stdout, '1 skipped as too large for the topic (lines 4)', explain);
  assert.match(r.stderr, `${file}:4: skipped: ${large.length.toLocaleString('en')} bytes (--compression none) is more than ${topic} accepts (max.message.bytes = ${maxMessageBytes.toLocaleString('en')} bytes)`, explain);
  assert.not.match(r.stderr, /internal fault|at .*\.js:\d+/, explain);
  const written = kcat(['-C', '-t', topic, '-e', '-q', '-f', '%s\n']).toString().split('\n').filter((l) => l !== '');
  assert.equal(written, ['{"id":"a"}', '{"id":"b"}', '{"id":"c"}']);
});

test.run();
