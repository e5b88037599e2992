// Both shipped flows end to end on the samples: every line's outcome (delivered, filtered,
// dead-lettered with its reason and path) must equal samples/<flow>.expected.ndjson, a line
// filtered with a reason by the stage of its flow's state (content: drop-stale-versions, campaign:
// drop-duplicates), and every delivered record must carry the values of the line it came from.
// The samples produced twice (a file holding every line twice) give the same outputs as once.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig, resourcesOf } from '../../src/pipeline/load.ts';
import { packageRoot } from '../../src/package-root.ts';
import { buildFlows } from '../../src/pipeline/build.ts';
import { startLocalServices } from '../../src/io/http/local-server.ts';
import { rawLines } from '../../scripts/support/lines.ts';

interface Expected {
  ok: boolean;
  filtered?: boolean;
  reason?: string;
  path?: string;
}

interface DeadLetter {
  headers: Record<string, string>;
  value?: string;
  valueBase64?: string;
}

const dir = mkdtempSync(join(tmpdir(), 'sluice-local-'));
const overlay = join(dir, 'test.conf');
writeFileSync(
  overlay,
  `include "${join(packageRoot, 'config', 'local.conf')}"
log.level = silent
flows.content.sink.path = "content.ndjson"
flows.content.dead-letter.path = "content.dlq.ndjson"
flows.campaign.sink.path = "campaign.ndjson"
flows.campaign.dead-letter.path = "campaign.dlq.ndjson"
flows.engagement.enabled = false
`,
);

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

// at module level, not in test.before: uvu 0.5 swallows a failing before hook and reports nothing
const config = await loadConfig(overlay);
const localServices = await startLocalServices(config.settings['local-services'], (name) => config.dirOf(['local-services', name, 'routes']));
const flows = buildFlows(config.flows, resourcesOf(config, pino({ level: 'silent' }), { localUrls: localServices.urls }));
await Promise.all(flows.map((f) => f.run()));
await localServices.stop();
const summaries = new Map(flows.map((f) => [f.name, f.stats]));

/** The stage of each flow's state, which filters with the expected reason. */
const STATE_STAGES: Record<string, { stage: string; reason: string }> = {
  content: { stage: 'drop-stale-versions', reason: 'E_STALE' },
  campaign: { stage: 'drop-duplicates', reason: 'E_DUPLICATE' },
};

test.after(() => rmSync(dir, { recursive: true, force: true }));

for (const flow of ['content', 'campaign']) {
  test(`${flow}: every line's outcome equals the expected file`, () => {
    const expected = lines(join(packageRoot, 'samples', `${flow}.expected.ndjson`)).map((l) => JSON.parse(l) as Expected);
    const letters = lines(join(dir, `${flow}.dlq.ndjson`)).map((l) => JSON.parse(l) as DeadLetter);
    const byLine = new Map(letters.map((d) => [Number(d.headers['sluice.source.line']), d]));
    assert.is(byLine.size, letters.length, 'one dead letter per failed line');
    const written = lines(join(dir, `${flow}.ndjson`));
    const expectedWritten = expected.filter((e) => e.ok && !e.filtered).length;
    assert.is(written.length, expectedWritten, 'records written');
    let filtered = 0;
    expected.forEach((e, index) => {
      const line = index + 1;
      const letter = byLine.get(line);
      if (e.ok) {
        assert.not.ok(letter, `line ${line} should not be dead-lettered, got ${letter?.headers['sluice.reason']}`);
        if (e.filtered) filtered++;
      } else {
        assert.ok(letter, `line ${line} should be dead-lettered with ${e.reason}`);
        assert.is(letter!.headers['sluice.reason'], e.reason, `line ${line} reason`);
        if (e.path !== undefined) assert.is(letter!.headers['sluice.path'], e.path, `line ${line} path`);
        const stage = e.reason === 'E_LOOKUP_MISS' ? `${flow}.${flow === 'content' ? 'content-document' : 'placement'}` : `${flow}.validate`;
        assert.is(letter!.headers['sluice.stage'], stage, `line ${line} stage`);
      }
    });
    const stats = summaries.get(flow)!;
    assert.is(stats.read, expected.length);
    assert.is(stats.filtered, filtered);
    assert.is(stats.written, expectedWritten);
    const state = STATE_STAGES[flow]!;
    const dropped = expected.filter((e) => e.filtered && e.reason !== undefined);
    assert.ok(dropped.length > 0, `the samples hold lines the ${state.stage} stage drops`);
    assert.ok(dropped.every((e) => e.reason === state.reason), `filtered lines carry ${state.reason}`);
    assert.is(stats.filteredByStage.get(state.stage), dropped.length, `filtered by ${state.stage}`);
  });

  test(`${flow}: dead letters keep the original bytes`, () => {
    const raw = rawLines(join(packageRoot, 'samples', `${flow}.ndjson`));
    for (const letter of lines(join(dir, `${flow}.dlq.ndjson`)).map((l) => JSON.parse(l) as DeadLetter)) {
      const original = raw[Number(letter.headers['sluice.source.line']) - 1]!;
      const kept = letter.value !== undefined ? Buffer.from(letter.value, 'utf8') : Buffer.from(letter.valueBase64!, 'base64');
      assert.ok(kept.equals(original), `line ${letter.headers['sluice.source.line']}: dead letter bytes differ`);
    }
  });
}

test('content: delivered records carry the values of their lines', () => {
  const expected = lines(join(packageRoot, 'samples', 'content.expected.ndjson')).map((l) => JSON.parse(l) as Expected);
  const raw = rawLines(join(packageRoot, 'samples', 'content.ndjson'));
  const inputs = raw.filter((_, i) => expected[i]!.ok && !expected[i]!.filtered).map((b) => JSON.parse(b.toString('utf8')));
  const documents = new Map(lines(join(packageRoot, 'samples', 'lookup', 'content-documents.ndjson')).map((l) => {
    const d = JSON.parse(l);
    return [d.id, d];
  }));
  const written = lines(join(dir, 'content.ndjson')).map((l) => JSON.parse(l));
  written.forEach((record, i) => {
    const input = inputs[i];
    assert.is(record.itemId, input.id);
    assert.is(record.itemType, input.type);
    assert.is(record.title, input.title);
    assert.is(record.language, input.language);
    assert.is(record.version, String(input.version));
    assert.equal(record.tags ?? [], input.tags ?? []);
    assert.is(record.authorId, input.author?.id);
    assert.is(record.category, documents.get(input.id).category);
  });
});

test('campaign: delivered records carry the values of their lines', () => {
  const expected = lines(join(packageRoot, 'samples', 'campaign.expected.ndjson')).map((l) => JSON.parse(l) as Expected);
  const raw = rawLines(join(packageRoot, 'samples', 'campaign.ndjson'));
  const inputs = raw.filter((_, i) => expected[i]!.ok && !expected[i]!.filtered).map((b) => JSON.parse(b.toString('utf8')));
  const placements = new Map(lines(join(packageRoot, 'samples', 'lookup', 'placements.ndjson')).map((l) => {
    const p = JSON.parse(l);
    return [p.placementId, p];
  }));
  const segments = new Map(lines(join(packageRoot, 'samples', 'lookup', 'user-segments.ndjson')).map((l) => {
    const u = JSON.parse(l);
    return [u.userId, u.segment];
  }));
  const written = lines(join(dir, 'campaign.ndjson')).map((l) => JSON.parse(l));
  assert.ok(written.some((record) => record.userSegment === 'new'), 'some users are unknown to the recommender');
  written.forEach((record, i) => {
    const input = inputs[i];
    assert.is(record.eventId, input.eventId);
    assert.is(record.eventType, input.type);
    assert.is(record.occurredAtMs, String(input.occurredAt));
    assert.is(record.deviceOs, input.device?.os);
    assert.is(record.surface, placements.get(input.placementId).surface);
    assert.is(record.userSegment, segments.get(input.userId) ?? 'new');
    if (input.value) assert.is(record.value, input.value);
  });
});

test('every sample twice (each file holding its lines twice): the same outputs as once; the second copies are filtered or fail validation again', async () => {
  const twice = join(dir, 'twice');
  mkdirSync(twice);
  for (const flow of ['content', 'campaign']) {
    const sample = readFileSync(join(packageRoot, 'samples', `${flow}.ndjson`));
    writeFileSync(join(twice, `${flow}.input.ndjson`), Buffer.concat([sample, sample]));
  }
  const twiceOverlay = join(twice, 'test.conf');
  writeFileSync(
    twiceOverlay,
    `include "${join(packageRoot, 'config', 'local.conf')}"
log.level = silent
${['content', 'campaign'].map((flow) => `flows.${flow}.source.path = "${flow}.input.ndjson"
flows.${flow}.sink.path = "${flow}.ndjson"
flows.${flow}.dead-letter.path = "${flow}.dlq.ndjson"`).join('\n')}
`,
  );
  const twiceConfig = await loadConfig(twiceOverlay);
  const services = await startLocalServices(twiceConfig.settings['local-services'], (name) => twiceConfig.dirOf(['local-services', name, 'routes']));
  const twiceFlows = buildFlows(twiceConfig.flows, resourcesOf(twiceConfig, pino({ level: 'silent' }), { localUrls: services.urls }));
  await Promise.all(twiceFlows.map((f) => f.run()));
  await services.stop();
  for (const flow of ['content', 'campaign']) {
    const once = readFileSync(join(dir, `${flow}.ndjson`));
    assert.ok(readFileSync(join(twice, `${flow}.ndjson`)).equals(once), `${flow}: the outputs of the samples twice are those of the samples once, byte for byte`);
    const expected = lines(join(packageRoot, 'samples', `${flow}.expected.ndjson`)).map((l) => JSON.parse(l) as Expected);
    const stats = twiceFlows.find((f) => f.name === flow)!.stats;
    const invalid = expected.filter((e) => !e.ok && e.reason !== 'E_LOOKUP_MISS').length;
    // second copies: what validation fails fails again; every other line reaches the state stage or a filter before it
    assert.is(stats.written, expected.filter((e) => e.ok && !e.filtered).length, `${flow}: written once`);
    assert.is(stats.invalid, 2 * invalid, `${flow}: invalid lines fail validation in both copies`);
    assert.is(stats.filtered, expected.length + summaries.get(flow)!.filtered - invalid, `${flow}: every valid second copy is filtered`);
  }
});

test.run();
