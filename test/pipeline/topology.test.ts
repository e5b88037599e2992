// The topology, the hand-off from the configuration to the runtime: every node carries its resolved
// settings (validate: engine and limits; enrich: the service it calls; commit: how a batch is
// committed, the exactly-once transaction named), and `describe` prints all of it in a stable
// text form, compared with test/pipeline/describe.snapshot.txt (SLUICE_UPDATE_SNAPSHOTS=1 rewrites it).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../src/package-root.ts';
import { loadConfig } from '../../src/pipeline/load.ts';
import { describe, validateSettings } from '../../src/pipeline/topology.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-topology-'));
const snapshot = join(packageRoot, 'test', 'pipeline', 'describe.snapshot.txt');
const PASSWORD_VARIABLE = 'SLUICE_TOPOLOGY_TEST_PASSWORD';

/** Two small flows: local files at-least-once with an enrichment, Kafka exactly-once with SASL and a store (its changelog). */
function configFile(): string {
  const file = join(dir, 'topology.conf');
  writeFileSync(
    file,
    `
services.documents { base-url = "http://127.0.0.1:9", timeout-ms = 250, retry { max-attempts = 2 } }
tables.kinds { kind = kafka, brokers = "127.0.0.1:9092", topic = kinds }
tables.unused { kind = file, path = unused.ndjson, key = id }
flows.items {
  source { kind = file, path = items.ndjson }
  rules { type = object, required = [id], properties { id { type = string }, kind { type = string } } }
  limits { max-depth = 8 }
  validator = js
  deadline-ms = 400
  stages = [
    { kind = filter, name = no-drafts, drop-if { field = kind, in = [draft] } }
    { kind = enrich-http, name = document, service = documents, url = "/documents/{id}", headers { Authorization = "Bearer literal" }, merge { title = title }, on-failure = dlq }
    { kind = lookup, name = kind-label, table = kinds, key = kind, merge { label = label }, on-missing = skip-stage }
  ]
  sink { kind = file, path = out.ndjson }
  dead-letter { kind = file, path = dlq.ndjson }
}
flows.events {
  source { kind = kafka, brokers = "127.0.0.1:9092", topic = events, group-id = g, sasl { mechanism = plain, username = u, password = \${${PASSWORD_VARIABLE}} } }
  rules { type = object, properties { id { type = string } } }
  delivery = exactly-once
  on-invalid = drop
  stages = [ { kind = dedupe, key = id, store = seen } ]
  sink { kind = kafka, brokers = "127.0.0.1:9092", topic = events-out }
}
`,
  );
  return file;
}

const topology = suite('topology: the resolved settings of every node, and their stable text');

topology.before(() => {
  process.env[PASSWORD_VARIABLE] = 'not-for-print';
});

topology.after(() => {
  delete process.env[PASSWORD_VARIABLE];
  rmSync(dir, { recursive: true, force: true });
});

topology('the nodes carry their resolved settings', async () => {
  const config = await loadConfig(configFile());
  const items = config.flows.find((t) => t.flow === 'items')!;
  assert.equal(validateSettings(items), { engine: 'js', 'max-depth': 8, 'max-size': 1024 * 1024, 'on-invalid': 'dlq' });
  const enrich = items.nodes.find((n) => n.name === 'items.document')!;
  assert.equal(enrich.services, { documents: config.settings.services.documents });
  assert.is(enrich.services!.documents!['timeout-ms'], 250);
  // a table is a node of the flows whose stages read it, their parent; a table no stage reads is none
  const kinds = items.nodes.find((n) => n.role === 'table')!;
  assert.equal([kinds.name, kinds.kind, kinds.config.topic, kinds.config['read-committed']], ['table.kinds', 'kafka', 'kinds', true]);
  assert.equal(items.nodes.find((n) => n.name === 'items.kind-label')!.parents, ['items.document', 'table.kinds']);
  assert.is(items.nodes.filter((n) => n.role === 'table').length, 1);
  const itemsCommit = items.nodes.find((n) => n.role === 'commit')!;
  assert.equal([itemsCommit.kind, itemsCommit.parents, itemsCommit.config], ['acknowledge', ['items.sink', 'items.dead-letter'], {}]);
  assert.equal(config.flows.find((t) => t.flow === 'events')!.nodes.filter((n) => n.role === 'table'), [], 'no stage of events reads a table');
  const events = config.flows.find((t) => t.flow === 'events')!;
  assert.equal(validateSettings(events), { engine: 'wasm', 'max-depth': 64, 'max-size': 1024 * 1024, 'on-invalid': 'drop' });
  const eventsCommit = events.nodes.find((n) => n.role === 'commit')!;
  assert.equal([eventsCommit.kind, eventsCommit.parents, eventsCommit.config], ['transaction', ['events.sink'], { 'transactional-producer': 'events.source' }]);
});

topology('describe() prints every setting, secrets redacted, in a stable text form (snapshot)', async () => {
  const text = describe((await loadConfig(configFile())).flows);
  assert.not.match(text, 'not-for-print');
  assert.not.match(text, 'Bearer literal');
  assert.is(describe((await loadConfig(configFile())).flows), text, 'the same configuration, the same text');
  if (process.env.SLUICE_UPDATE_SNAPSHOTS === '1') writeFileSync(snapshot, text);
  assert.fixture(text, readFileSync(snapshot, 'utf8'));
});

topology.run();
