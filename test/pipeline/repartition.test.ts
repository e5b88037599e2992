// The repartition hop as topology data: a flow on Kafka whose stateful stage follows a key-by is
// two flows joined by <group>-<flow>-<key-by>-repartition (the first writes it keyed by the new
// key, the second reads it with a group of its own and holds the stores, their changelogs
// partitioned like the input); `check --describe` shows both; a stage that builds the output before
// the key-by, or a second hop, is a configuration error naming the flow and stage; a file source
// (local mode) or a key-by without a stateful stage after it is not split.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SluiceError } from '../../src/errors.ts';
import { changelogsOf } from '../../src/pipeline/changelogs.ts';
import { loadConfig } from '../../src/pipeline/load.ts';
import { describe } from '../../src/pipeline/topology.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-repartition-'));
const test = suite('repartition: a flow split at its key-by');

test.after(() => rmSync(dir, { recursive: true, force: true }));

const KAFKA = 'kind = kafka, brokers = "127.0.0.1:9092"';

function configFile(name: string, stages: string, source = `${KAFKA}, topic = events, group-id = g`, delivery = 'exactly-once'): string {
  const file = join(dir, `${name}.conf`);
  writeFileSync(
    file,
    `
services.items { base-url = "http://127.0.0.1:9" }
flows.engagement {
  delivery = ${delivery}
  source { ${source} }
  rules { type = object, properties { eventId { type = string }, itemId { type = string }, type { type = string } } }
  stages = [ ${stages} ]
  sink { ${KAFKA}, topic = out }
  dead-letter { ${KAFKA}, topic = dlq }
}
`,
  );
  return file;
}

const filter = '{ kind = filter, name = no-heartbeats, drop-if { field = type, in = [heartbeat] } }';
const keyBy = '{ kind = key-by, name = by-item, field = itemId }';
const dedupe = '{ kind = dedupe, name = once, key = eventId, store = seen }';

async function configError(file: string): Promise<SluiceError> {
  try {
    await loadConfig(file);
  } catch (error) {
    assert.instance(error, SluiceError);
    return error as SluiceError;
  }
  throw new Error('loaded');
}

test('key-by then a stateful stage on Kafka: two flows joined by the repartition topic', async () => {
  const config = await loadConfig(configFile('split', [filter, keyBy, '{ kind = filter, name = no-clicks, drop-if { field = type, in = [click] } }', dedupe].join('\n')));
  assert.equal(config.flows.map((f) => f.flow), ['engagement.repartition', 'engagement']);
  const [writer, reader] = config.flows as [(typeof config.flows)[0], (typeof config.flows)[0]];
  const hop = { flow: 'engagement', topic: 'g-engagement-by-item-repartition', input: 'events', writer: 'engagement.repartition', reader: 'engagement', readerGroup: 'g-engagement-by-item' };
  assert.equal(writer.repartition, hop);
  assert.equal(reader.repartition, hop);
  const line = (t: typeof writer) => t.nodes.map((n) => `${n.name} ${n.role} ${n.kind} <- ${n.parents.join(',')}`);
  assert.equal(line(writer), [
    'engagement.repartition.source source kafka <- ',
    'engagement.repartition.validate validate core <- engagement.repartition.source',
    'engagement.repartition.no-heartbeats stage filter <- engagement.repartition.validate',
    'engagement.repartition.by-item stage key-by <- engagement.repartition.no-heartbeats',
    'engagement.repartition.sink sink kafka <- engagement.repartition.by-item',
    'engagement.repartition.dead-letter dead-letter kafka <- engagement.repartition.validate,engagement.repartition.no-heartbeats,engagement.repartition.by-item',
    'engagement.repartition.commit commit transaction <- engagement.repartition.sink,engagement.repartition.dead-letter',
  ]);
  assert.equal(line(reader), [
    'engagement.source source kafka <- ',
    'engagement.validate validate core <- engagement.source',
    'engagement.no-clicks stage filter <- engagement.validate',
    'engagement.once stage dedupe <- engagement.no-clicks',
    'engagement.sink sink kafka <- engagement.once',
    'engagement.dead-letter dead-letter kafka <- engagement.validate,engagement.no-clicks,engagement.once',
    'engagement.commit commit transaction <- engagement.sink,engagement.dead-letter',
  ]);
  // the first part writes the messages as they came, keyed by the record's (new) key
  const toTopic = writer.nodes.find((n) => n.role === 'sink')!.config;
  assert.is(toTopic.topic, hop.topic);
  assert.is(toTopic.key, undefined);
  assert.equal(toTopic.brokers, ['127.0.0.1:9092']);
  assert.equal(writer.nodes.find((n) => n.role === 'source')!.config.topic, 'events');
  assert.equal(writer.nodes.find((n) => n.role === 'commit')!.config, { 'transactional-producer': 'engagement.repartition.source' });
  // the second reads it from the start, committed records only, as a group of its own
  const fromTopic = reader.nodes.find((n) => n.role === 'source')!.config;
  assert.equal([fromTopic.topic, fromTopic['group-id'], fromTopic['from-beginning'], fromTopic['read-committed']], [hop.topic, hop.readerGroup, true, true]);
  assert.equal(changelogsOf(writer), []);
  assert.equal(changelogsOf(reader), [{ flow: 'engagement', group: 'g-engagement-by-item', store: 'seen', topic: 'g-engagement-by-item-seen-changelog', input: 'events' }]);
  const text = describe(config.flows);
  assert.match(text, 'Flow engagement.repartition: exactly-once');
  assert.match(text, '  repartition g-engagement-by-item-repartition: written by engagement.repartition keyed by the new key, read by engagement (group g-engagement-by-item), partitioned like events\n');
  assert.match(text, '  changelog g-engagement-by-item-seen-changelog: store seen, compacted, partitioned like events\n');
});

test('a stateful stage before the key-by stays in the first part, with its changelog', async () => {
  const config = await loadConfig(configFile('before', ['{ kind = dedupe, name = first, key = eventId, store = first }', keyBy, dedupe].join('\n')));
  const [writer] = config.flows;
  assert.equal(writer!.nodes.filter((n) => n.role === 'stage').map((n) => n.kind), ['dedupe', 'key-by']);
  assert.equal(changelogsOf(writer!).map((c) => c.topic), ['g-first-changelog']);
});

test('no split: a file source (local mode), or a key-by with no stateful stage after it', async () => {
  const local = await loadConfig(configFile('local', [keyBy, dedupe].join('\n'), 'kind = file, path = events.ndjson', 'at-least-once'));
  assert.equal(local.flows.map((f) => f.flow), ['engagement']);
  assert.is(local.flows[0]!.repartition, undefined);
  const plain = await loadConfig(configFile('plain', [dedupe, keyBy, filter].join('\n')));
  assert.equal(plain.flows.map((f) => f.flow), ['engagement']);
});

test('a stage building the output before the key-by: a configuration error naming the flow and the stage', async () => {
  const error = await configError(
    configFile('built', ['{ kind = enrich-http, name = item, service = items, url = "/items/{itemId}", merge { title = title } }', keyBy, dedupe].join('\n')),
  );
  assert.is(error.code, 'SLC_CONFIG');
  assert.is(error.problems.length, 1);
  assert.match(error.problems[0]!.path, 'flows.engagement.stages[0]');
  assert.match(error.problems[0]!.message, 'flow engagement: stage item (enrich-http) builds the output record before key-by by-item');
});

test('a second repartition in one flow: a configuration error at its stateful stage', async () => {
  const error = await configError(configFile('twice', [keyBy, dedupe, '{ kind = key-by, name = by-type, field = type }', '{ kind = dedupe, name = again, key = eventId, store = again }'].join('\n')));
  assert.is(error.problems.length, 1);
  assert.match(error.problems[0]!.path, 'flows.engagement.stages[3]');
  assert.match(error.problems[0]!.message, 'a second repartition');
});

test.run();
