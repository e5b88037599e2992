// At-least-once commits by count as well as by time, on a real broker (the one KAFKA_BROKERS names;
// scripts/test.mjs starts one): the campaign flow (config/qal.conf on its own topics) with a commit
// interval of 10 minutes and commit-interval-messages = 200 commits the end of its input while it
// runs (by time alone, nothing would be committed before the interval or a stop). The duplicates
// a SIGKILL costs, which this bounds at a high rate, are measured by crash.test.ts.
import { Buffer } from 'node:buffer';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { brokerList, campaignEvents, campaignTopics, cleanUpRun, committedOffsets, endOffsets, ensureBuilt, Processor, requireEnvironment, sluice, uniqueNames, waitFor, writeCampaignOverlay } from './harness.ts';

const unique = uniqueNames('k');

const commits = suite('at-least-once commits by count');

commits('commit-interval-messages: the input is committed to its end long before commit-interval-ms', async () => {
  requireEnvironment();
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-commit-'));
  const run = { ...campaignTopics(unique), dir, processors: [] as Processor[], passed: false };
  const admin = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('observer'), logLevel: kafkajs.logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const config = join(dir, 'commit.conf');
    const lines = ['flows.campaign.source { commit-interval-ms = 600000, commit-interval-messages = 200 }'];
    writeCampaignOverlay(config, run, { partitions: 1, log: join(dir, 'sluice.log'), lines });
    sluice(['topics', 'create', '--config', config]);
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, Buffer.concat(campaignEvents(2_000, true).lines.flatMap((l) => [l, Buffer.from('\n')])));
    sluice(['produce', '--config', config, '--topic', run.input, '--file', file]);
    const end = await endOffsets(admin, run.input);
    const processor = new Processor(config, join(dir, 'sluice.log'));
    run.processors.push(processor);
    await waitFor('the committed offset at the end of the input', async () => {
      if (processor.exit) throw new Error(`the processor exited:\n${processor.explain()}`);
      return Number((await committedOffsets(admin, run.group, run.input)).get(0)) === end;
    }, 60_000);
    assert.equal(await processor.stop('SIGTERM'), { code: 0, signal: null }, processor.explain());
    run.passed = true;
  } finally {
    await cleanUpRun({ ...run, admin });
    if (run.passed) rmSync(dir, { recursive: true, force: true });
  }
});

commits.run();
