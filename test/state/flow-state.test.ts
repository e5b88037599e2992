// A flow's state on a real broker (KAFKA_BROKERS; npm test starts one), as a Kafka source drives
// it: assignment restores each partition's store from its changelog, and meanwhile /readyz's
// checks say "restoring" with the progress; the metrics give the records restored, those left, the
// store's keys and bytes. A batch reads the writes of the partition's earlier batch still in
// flight; at-least-once remembers a batch only once its changelog records are acknowledged, an
// aborted one is forgotten, exactly-once hands its changelog records to the transaction.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChangelogReader } from '../../src/component/state.ts';
import { platformaticTransport } from '../../src/io/kafka/platformatic/index.ts';
import { Metrics } from '../../src/observe/metrics.ts';
import { changelogProducer, changelogTopic, changelogTopicSpec } from '../../src/state/changelog.ts';
import { FlowState } from '../../src/state/flow-state.ts';
import { brokerList, requireEnvironment, uniqueNames } from '../io/kafka/harness.ts';

const RECORDS = 20_000;
const logger = pino({ level: 'warn' });
const unique = uniqueNames('flow-state');
const LIMITS = { maxCircuitOpenMs: 1000, maxBrokerSilenceMs: 1000 };
const bytes = (text: string) => Buffer.from(text);

/** The value of a metric's series from the exposition text. */
const metric = (text: string, series: string) => Number(text.split('\n').find((l) => l.startsWith(`${series} `))?.split(' ')[1]);

test('restore on assignment, readiness and metrics meanwhile; batches in flight see each other; remember after ack, abort forgets', async () => {
  requireEnvironment();
  const transport = platformaticTransport({ brokers: brokerList, clientId: unique('client'), logger });
  const group = unique('group');
  const topic = changelogTopic(group, 'seen');
  const admin = transport.admin();
  const producer = transport.producer({ compression: 'lz4', acks: -1, idempotent: true });
  const reader = transport.partitionReader();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-flow-state-'));
  try {
    await admin.createTopics([changelogTopicSpec(group, 'seen', 2)]);
    const send = changelogProducer(producer, topic);
    for (let first = 0; first < RECORDS; first += 5_000) {
      await send(0, Array.from({ length: 5_000 }, (_, i) => ({ key: bytes(`key-${first + i}`), value: bytes('seen'), sourceOffset: BigInt(first + i) })));
    }
    const metrics = new Metrics();
    const state = new FlowState({ flow: 'events', stores: [{ name: 'seen', backend: 'lmdb' }], stateDir: dir, log: logger, metrics });
    // the real reader, watched: what readiness says while records come in
    const seenWhileRestoring: string[][] = [];
    const watched: ChangelogReader = {
      endOffset: (t, p) => reader.endOffset(t, p),
      read: (t, p, from, until, onRecords) =>
        reader.read(t, p, from, until, (records) => {
          onRecords(records);
          seenWhileRestoring.push(metrics.readiness.problems(LIMITS));
        }),
      close: () => reader.close(),
    };
    state.attach(group, watched, producer);
    await state.assign([0, 1]);
    assert.ok(seenWhileRestoring.length > 0, 'no fetch while restoring');
    const first = seenWhileRestoring[0]!.find((p) => p.includes('restoring'));
    assert.match(first ?? '', new RegExp(`^flow events: restoring state \\(${topic} partition 0: [0-9]+ of ${RECORDS} records\\)$`));
    assert.not.ok(metrics.readiness.problems(LIMITS).some((p) => p.includes('restoring')), 'still restoring after assign');
    let text = await metrics.text();
    assert.is(metric(text, 'sluice_state_restored_records_total{flow="events",store="seen"}'), RECORDS);
    assert.is(metric(text, 'sluice_state_records_to_restore{flow="events",store="seen"}'), 0);
    assert.is(metric(text, 'sluice_state_keys{flow="events",store="seen"}'), RECORDS);
    assert.ok(metric(text, 'sluice_state_bytes{flow="events",store="seen"}') > 0);
    assert.equal([...state.assigned()].sort(), [0, 1]);

    // at-least-once, partition 1: the second batch sees the first's write before it is remembered
    const one = state.begin(1, 10n);
    one.view(0).put(bytes('fresh'), bytes('one'));
    const two = state.begin(1, 11n);
    assert.is(Buffer.from(two.view(0).get(bytes('fresh'))!).toString(), 'one');
    two.view(0).put(bytes('other'), bytes('two'));
    await one.remember();
    two.abort(); // its output failed: not remembered
    const three = state.begin(1, 12n);
    assert.is(Buffer.from(three.view(0).get(bytes('fresh'))!).toString(), 'one');
    assert.is(three.view(0).get(bytes('other')), undefined);
    // exactly-once: the changelog records go to the transaction, on the store's partition, a delete as a tombstone
    three.view(0).delete(bytes('fresh'));
    const sends = three.changelogSends();
    assert.equal(sends.map((s) => [s.topic, s.messages.map((m) => [m.partition, Buffer.from(m.key!).toString(), m.value])]), [[topic, [[1, 'fresh', null]]]]);
    three.committed();
    assert.is(state.begin(1, 13n).view(0).get(bytes('fresh')), undefined);
    // the at-least-once batch's record is on the changelog: a new instance restores it
    await state.close();
    const elsewhere = new FlowState({ flow: 'events', stores: [{ name: 'seen', backend: 'memory' }], stateDir: dir, log: logger, metrics: new Metrics() });
    elsewhere.attach(group, reader, producer);
    await elsewhere.assign([1]);
    assert.is(Buffer.from(elsewhere.begin(1, 0n).view(0).get(bytes('fresh'))!).toString(), 'one');
    await elsewhere.close();
    text = await metrics.text();
    assert.is(metric(text, 'sluice_state_keys{flow="events",store="seen"}'), 0, 'keys of closed stores');
  } finally {
    await Promise.all([admin.close(), producer.close(), reader.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
