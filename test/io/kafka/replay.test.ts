// `sluice replay` on a real broker (the one KAFKA_BROKERS names): a flow (map, then enrich-file on
// a lookup file) dead-letters an event whose placement the file lacks (E_LOOKUP_MISS). The file
// fixed, `replay --dry-run` counts it and sends nothing; `replay` puts the original record back on
// the input topic (key, value and headers kept, sluice.replay-count 1, none of the failure's
// headers); the flow run again writes it out. A second replay sends nothing: the input topic
// keeps its records and the outputs do not double.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BROKERS, brokerList, ensureBuilt, kcat, kcatRead, Processor, requireEnvironment, sluice, uniqueNames, waitFor } from './harness.ts';

const unique = uniqueNames('rp');
const state: { dir: string; admin?: KafkajsAdmin; topics: string[]; processors: Processor[]; passed: boolean } = { dir: '', topics: [], processors: [], passed: false };

const replay = suite('sluice replay: dead letters back to the input topic once their cause is fixed, once');

replay.before(async () => {
  requireEnvironment();
  ensureBuilt();
  state.dir = mkdtempSync(join(tmpdir(), 'sluice-replay-'));
  state.admin = new kafkajs.Kafka({ brokers: brokerList, clientId: 'sluice-replay-test', logLevel: kafkajs.logLevel.NOTHING }).admin();
  await state.admin.connect();
});

replay.after(async () => {
  for (const p of state.processors) if (!p.exit) await p.stop('SIGKILL');
  if (state.admin) {
    await state.admin.deleteTopics({ topics: state.topics }).catch(() => undefined);
    await state.admin.disconnect().catch(() => undefined);
  }
  if (state.dir && state.passed) rmSync(state.dir, { recursive: true, force: true });
  else if (state.dir) console.log(`  kept ${state.dir} (the processors' logs)`);
});

replay('a lookup miss fixed: replay sends the record back, the flow writes it; a second replay sends nothing', async () => {
  const [input, output, dlq] = ['in', 'out', 'dlq'].map(unique) as [string, string, string];
  state.topics.push(input, output, dlq);
  const lookup = join(state.dir, 'placements.ndjson');
  writeFileSync(lookup, '{"placementId":"p1","surface":"home"}\n');
  const config = join(state.dir, 'replay.conf');
  const log = join(state.dir, 'sluice.log');
  const kafka = `brokers = "${BROKERS}"`;
  writeFileSync(
    config,
    [
      `kafka { ${kafka}, topics { "${input}" = 2, "${output}" = 2, "${dlq}" = 1 } }`,
      `log { level = info, destination = "${log}" }`,
      'progress = off',
      'observe.http.enabled = false',
      'flows.rp {',
      '  rules = { type = object, properties = { eventId = { type = string }, placementId = { type = string } } }',
      `  source { kind = kafka, ${kafka}, topic = "${input}", group-id = "${unique('group')}" }`,
      '  stages = [',
      '    { kind = map, target = "sluice.recommender.v1.EventRecord", fields { event_id = eventId, placement_id = placementId } }',
      '    { kind = enrich-file, path = "placements.ndjson", key = placementId, merge { surface = surface } }',
      '  ]',
      `  sink { kind = kafka, ${kafka}, topic = "${output}" }`,
      `  dead-letter { kind = kafka, ${kafka}, topic = "${dlq}" }`,
      '}',
    ].join('\n') + '\n',
  );
  sluice(['topics', 'create', '--config', config]);
  const events = ['{"eventId":"e1","placementId":"p1"}', '{"eventId":"e2","placementId":"p2"}', '{"eventId":"e3","placementId":"p1"}'];
  const eventsFile = join(state.dir, 'events.ndjson');
  writeFileSync(eventsFile, events.join('\n') + '\n');
  kcat(['-P', '-t', input, '-k', 'key-1', '-H', 'origin=test', '-l', eventsFile]);

  const first = new Processor(config, log);
  state.processors.push(first);
  await waitFor('2 outputs and the dead letter of the miss', () => {
    if (first.exit) throw new Error(`the processor exited:\n${first.explain()}`);
    return kcatRead(output, false).length === 2 && kcatRead(dlq, false).length === 1;
  }, 60_000, 200);
  assert.equal(await first.stop('SIGTERM'), { code: 0, signal: null }, first.explain());
  const [letter] = kcatRead(dlq, true);
  assert.is(letter!.headers['sluice.reason'], 'E_LOOKUP_MISS');

  writeFileSync(lookup, '{"placementId":"p1","surface":"home"}\n{"placementId":"p2","surface":"feed"}\n');
  const dry = sluice(['replay', '--config', config, '--flow', 'rp', '--dry-run']);
  assert.match(dry, `would replay 1 dead letters of ${dlq} to ${input}; left 0`);
  assert.match(dry, /would replay\tE_LOOKUP_MISS\t1/);
  assert.is(kcatRead(input, false).length, 3, 'a dry run sends nothing');

  const replayed = sluice(['replay', '--config', config, '--flow', 'rp']);
  assert.match(replayed, `replayed 1 dead letters of ${dlq} to ${input}; left 0`);
  const inputs = kcatRead(input, true);
  assert.is(inputs.length, 4, 'one record back on the input topic');
  const back = inputs.find((m) => m.headers['sluice.replay-count'] !== undefined)!;
  assert.is(back.value!.toString('utf8'), events[1], 'the original value');
  assert.is(back.key!.toString('utf8'), 'key-1', 'its key');
  assert.equal(back.headers, { origin: 'test', 'sluice.replay-count': '1' }, 'its own headers, the replay count, none of the failure\'s');

  const second = new Processor(config, `${log}.2`);
  state.processors.push(second);
  await waitFor('the replayed record written', () => {
    if (second.exit) throw new Error(`the processor exited:\n${second.explain()}`);
    return kcatRead(output, false).length === 3;
  }, 60_000, 200);
  assert.equal(await second.stop('SIGTERM'), { code: 0, signal: null }, second.explain());
  assert.is(kcatRead(dlq, false).length, 1, 'no new dead letter');

  const again = sluice(['replay', '--config', config, '--flow', 'rp']);
  assert.match(again, `replayed 0 dead letters of ${dlq} to ${input}; left 0`);
  assert.is(kcatRead(input, false).length, 4, 'a second replay sends nothing: nothing doubles');
  state.passed = true;
});

replay('--limit replays that many letters and leaves the rest for the next replay; each letter once across several fetches', async () => {
  state.passed = false;
  const [input, dlq] = ['lin', 'ldlq'].map(unique) as [string, string];
  state.topics.push(input, dlq);
  const config = join(state.dir, 'limit.conf');
  const kafka = `brokers = "${BROKERS}"`;
  writeFileSync(
    config,
    [
      `kafka { ${kafka}, topics { "${input}" = 1, "${dlq}" = 1 } }`,
      'flows.lim {',
      '  rules = { type = object }',
      `  source { kind = kafka, ${kafka}, topic = "${input}", group-id = "${unique('group')}" }`,
      `  sink { kind = kafka, ${kafka}, topic = "${unique('out')}" }`,
      `  dead-letter { kind = kafka, ${kafka}, topic = "${dlq}" }`,
      '}',
    ].join('\n') + '\n',
  );
  sluice(['topics', 'create', '--config', config]);
  // 3,000 letters of 1 KB: over 1 MB, more than one fetch of the replay's consumer
  const pad = 'x'.repeat(1000);
  const letters = Array.from({ length: 3000 }, (_, i) => `{"eventId":"e${i}","pad":"${pad}"}`);
  const lettersFile = join(state.dir, 'letters.ndjson');
  writeFileSync(lettersFile, letters.join('\n') + '\n');
  kcat(['-P', '-t', dlq, '-H', 'sluice.reason=E_LOOKUP_MISS', '-l', lettersFile]);
  assert.is(kcatRead(dlq, false).length, 3000);

  const first = sluice(['replay', '--config', config, '--flow', 'lim', '--limit', '1000']);
  assert.match(first, `replayed 1000 dead letters of ${dlq} to ${input}; left 0`);
  assert.match(first, 'stopped at --limit 1000');
  assert.is(kcatRead(input, false).length, 1000);

  const rest = sluice(['replay', '--config', config, '--flow', 'lim']);
  assert.match(rest, `replayed 2000 dead letters of ${dlq} to ${input}; left 0`);
  assert.not.match(rest, '--limit');
  const values = kcatRead(input, false).map((m) => JSON.parse(m.value!.toString('utf8')) as { eventId: string });
  assert.is(values.length, 3000, 'every letter replayed once');
  assert.equal(values.map((v) => v.eventId), letters.map((_, i) => `e${i}`), 'in order, none twice, none missing');

  const again = sluice(['replay', '--config', config, '--flow', 'lim']);
  assert.match(again, `replayed 0 dead letters of ${dlq} to ${input}; left 0`);
  state.passed = true;
});

replay.run();
