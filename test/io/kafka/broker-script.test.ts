// scripts/kafka.sh keeps a broker's data across stop and start (a topic and its messages are
// there again), and --purge discards it: on a broker of its own (its own run dir and ports:
// SLUICE_TEST_KAFKA_SCRIPT_PORT, default SLUICE_TEST_KAFKA_PORT + 200, and the next one up for
// its controller), started and stopped here; the messages are written and read with kcat.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../../src/package-root.ts';

const PORT = Number(process.env.SLUICE_TEST_KAFKA_SCRIPT_PORT ?? Number(process.env.SLUICE_TEST_KAFKA_PORT ?? 19092) + 200);
const RUN = join(tmpdir(), `sluice-kafka-script-${PORT}`);
const KCAT = process.env.KCAT ?? '/usr/bin/kcat';
const brokerEnv = { ...process.env, KAFKA_PORT: String(PORT), SLUICE_KAFKA_RUN: RUN };

function kafkaSh(...args: string[]): string {
  const result = spawnSync('bash', [join(packageRoot, 'scripts', 'kafka.sh'), ...args], { env: brokerEnv, encoding: 'utf8', timeout: 300_000 });
  assert.is(result.status, 0, `kafka.sh ${args.join(' ')}: exit ${result.status}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function kcat(args: string[], input?: string): string {
  const result = spawnSync(KCAT, ['-b', `127.0.0.1:${PORT}`, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  assert.is(result.status, 0, `kcat ${args.join(' ')}: exit ${result.status}\n${result.stderr}`);
  return result.stdout;
}

const script = suite('scripts/kafka.sh: stop keeps the data for the next start, --purge discards it');

script.after(() => {
  spawnSync('bash', [join(packageRoot, 'scripts', 'kafka.sh'), 'stop', '--purge'], { env: brokerEnv, encoding: 'utf8', timeout: 300_000 });
});

script('a topic and its messages outlive stop and start; stop --purge deletes the run dir; start --purge begins empty', () => {
  kafkaSh('start', '--purge');
  kafkaSh('topic', 'kept', '2');
  kcat(['-P', '-t', 'kept', '-K:'], 'a:one\nb:two\nc:three\n');
  assert.match(kafkaSh('stop'), 'data kept');
  assert.ok(existsSync(join(RUN, 'data', 'meta.properties')), 'the formatted data stays');

  assert.match(kafkaSh('start'), 'starting on the data');
  const read = () => kcat(['-C', '-t', 'kept', '-e', '-q', '-f', '%k:%s\n']).trim().split('\n').sort();
  assert.equal(read(), ['a:one', 'b:two', 'c:three'], 'the messages of before the stop');
  kafkaSh('restart');
  assert.equal(read(), ['a:one', 'b:two', 'c:three'], 'the messages of before the restart');

  kafkaSh('stop', '--purge');
  assert.not.ok(existsSync(RUN), 'stop --purge deletes the run dir');
  kafkaSh('start');
  const topics = kcat(['-L', '-J']);
  assert.not.match(topics, '"kept"', 'a purged broker starts with no topic of before');
});

script.run();
