// The reload decisions of FlowSupervisor without a broker, on config/local.conf overlaid in a
// temporary directory (real files, real fs.watch):
//   - a flow's fingerprint changes with its own stages, rules file content, validator engine and
//     the services it names, and with nothing else (another flow's change, the log level);
//   - changing only `validator = js` restarts that flow, and only it;
//   - an invalid configuration is rejected with every problem (file, key path), counted and
//     reported to the listeners, and changes nothing;
//   - file changes are debounced: three quick writes make one reload; none after unwatching.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../src/pipeline/load.ts';
import { createLogger } from '../../src/observe/logger.ts';
import { packageRoot } from '../../src/package-root.ts';
import { flowFingerprint, FlowSupervisor, type ReloadOutcome, reloadOnChange } from '../../src/pipeline/supervisor.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-supervisor-'));
const file = join(dir, 'reload.conf');
const rules = join(dir, 'content.schema.json');
copyFileSync(join(packageRoot, 'config', 'rules', 'content.schema.json'), rules);
const logger = createLogger({ level: 'silent', destination: 'stderr' });

/** The overlay with `lines` after the includes. */
function write(...lines: string[]): void {
  writeFileSync(file, [`include "${join(packageRoot, 'config', 'local.conf')}"`, 'progress = off', `flows.content.rules-file = "${rules}"`, ...lines].join('\n') + '\n');
}

async function fingerprints(): Promise<Record<string, string>> {
  const config = await loadConfig(file);
  return Object.fromEntries(config.flows.map((t) => [t.flow, flowFingerprint(t)]));
}

const supervisor = suite('flow supervisor: what a reload restarts, rejects and when it runs');

supervisor.after(() => rmSync(dir, { recursive: true, force: true }));

supervisor('a flow fingerprint changes with its stages, its rules file and its services only', async () => {
  write();
  const base = await fingerprints();
  assert.equal(Object.keys(base).sort(), ['campaign', 'content', 'engagement']);
  const changed = async (...lines: string[]) => {
    write(...lines);
    const now = await fingerprints();
    return Object.keys(base).filter((flow) => now[flow] !== base[flow]).sort();
  };
  assert.equal(await changed('log.level = debug', '# a comment'), [], 'settings no flow uses');
  assert.equal(await changed('flows.campaign.on-invalid = drop'), ['campaign']);
  assert.equal(await changed('flows.content.stages = [{ kind = filter, name = drop-drafts, drop-if { field = status, in = [draft, withdrawn] } }]'), ['content'], 'a stage');
  assert.equal(await changed('services.content-api.timeout-ms = 700'), ['content'], 'a service the flow enriches from');
  assert.equal(await changed('flows.campaign.sink.path = "other.ndjson"'), ['campaign']);
  assert.equal(await changed('tables.placements.path = "other.ndjson"'), ['campaign'], 'a table the flow looks up in');
  assert.equal(await changed('flows.content.validator = js'), ['content'], 'the validator engine');
  assert.equal(await changed('flows.campaign.limits.max-size = 4096'), ['campaign'], 'a validation limit');
  write();
  const original = readFileSync(rules, 'utf8');
  writeFileSync(rules, original.replace('"properties"', '"maxProperties": 64, "properties"'));
  try {
    const now = await fingerprints();
    assert.equal(Object.keys(base).filter((flow) => now[flow] !== base[flow]), ['content'], "the rules file's content");
  } finally {
    writeFileSync(rules, original);
  }
});

supervisor('an invalid configuration is rejected with file and key path, counted, reported, and changes nothing', async () => {
  write();
  const flows = new FlowSupervisor(file, await loadConfig(file), logger);
  assert.ok(flows.watchedFiles.includes(file) && flows.watchedFiles.includes(rules), `watched: ${flows.watchedFiles.join(', ')}`);
  const seen: ReloadOutcome[] = [];
  flows.onReload((o) => seen.push(o));
  write('flows.campaign.limits.max-depth = deep', 'flows.content.sink.encoding = yaml');
  const outcome = await flows.reload('request');
  assert.is(outcome.outcome, 'rejected');
  assert.equal(outcome.problems.map((p) => `${p.file}: ${p.path}`).sort(), [`${file}: flows.campaign.limits.max-depth`, `${file}: flows.content.sink.encoding`]);
  assert.equal(seen, [outcome]);
  assert.equal(flows.reloads, { applied: 0, unchanged: 0, rejected: 1, skipped: 0 });
  await flows.stop();
  assert.is((await flows.reload('request')).outcome, 'skipped', 'no reload once stopping');
});

supervisor('a valid configuration swaps the changed, added and removed flows and keeps the others', async () => {
  write();
  const flows = new FlowSupervisor(file, await loadConfig(file), logger);
  const campaignStats = flows.stats.find((s) => s.flow === 'campaign');
  write('flows.campaign.on-invalid = drop');
  const changed = await flows.reload('request');
  assert.equal([changed.outcome, changed.restarted, changed.unchanged, changed.started, changed.stopped], ['applied', ['campaign'], ['content', 'engagement'], [], []]);
  write('flows.campaign.on-invalid = drop', 'flows.content.enabled = false');
  const removed = await flows.reload('request');
  assert.equal([removed.outcome, removed.stopped, removed.restarted, removed.unchanged], ['applied', ['content'], [], ['campaign', 'engagement']]);
  assert.equal(flows.flowNames, ['engagement', 'campaign']);
  write('flows.campaign.on-invalid = drop');
  const added = await flows.reload('request');
  assert.equal([added.outcome, added.started, added.unchanged], ['applied', ['content'], ['campaign', 'engagement']]);
  assert.equal(flows.stats.map((s) => s.flow).sort(), ['campaign', 'content', 'engagement'], 'each flow counted once, whatever its restarts');
  assert.ok(flows.stats.includes(campaignStats!), 'a restarted flow continues its counters');
  assert.equal(flows.reloads, { applied: 3, unchanged: 0, rejected: 0, skipped: 0 });
});

supervisor('changing only validator = js restarts that flow, and only it', async () => {
  write();
  const flows = new FlowSupervisor(file, await loadConfig(file), logger);
  write('flows.content.validator = js');
  const changed = await flows.reload('request');
  assert.equal([changed.outcome, changed.restarted, changed.unchanged, changed.started, changed.stopped], ['applied', ['content'], ['campaign', 'engagement'], [], []]);
  const again = await flows.reload('request');
  assert.equal([again.outcome, [...again.unchanged].sort()], ['unchanged', ['campaign', 'content', 'engagement']], 'nothing changed since: nothing restarts');
  write();
  const back = await flows.reload('request');
  assert.equal([back.outcome, back.restarted], ['applied', ['content']], 'back to wasm: restarted again');
  await flows.stop();
});

supervisor('file changes are debounced into one reload; none after unwatching', async () => {
  write();
  const flows = new FlowSupervisor(file, await loadConfig(file), logger);
  const seen: ReloadOutcome[] = [];
  let reloaded: (() => void) | undefined;
  flows.onReload((o) => {
    seen.push(o);
    reloaded?.();
  });
  /** Resolves once `count` reloads have been reported; fails after 10 s. */
  const reloads = async (count: number) => {
    for (const deadline = Date.now() + 10_000; seen.length < count; ) {
      const left = deadline - Date.now();
      if (left <= 0) assert.unreachable(`${count} reloads: only ${seen.length} in 10 s`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        reloaded = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  };
  // the test's own watcher: each write is seen as a change before the next one is made
  let changed: (() => void) | undefined;
  const ownWatcher = watch(dir, (_event, name) => name === basename(file) && changed?.());
  const writeSeen = async (...lines: string[]) => {
    const seenChange = new Promise<void>((resolve) => (changed = resolve));
    write(...lines);
    await seenChange;
  };
  const unwatch = reloadOnChange(flows, logger, { debounceMs: 200 });
  try {
    for (const level of ['debug', 'warn', 'x-not-a-level']) await writeSeen(`log.level = ${level}`);
    await reloads(1);
    assert.equal(seen.map((o) => [o.trigger, o.outcome]), [['file-change', 'rejected']], 'one reload, of the last write');
  } finally {
    unwatch();
  }
  // watched again with a longer debounce: its reload of the next write is the marker that a watcher
  // left behind by unwatch() (debounce 200 ms) would have come before
  const rewatch = reloadOnChange(flows, logger, { debounceMs: 1000 });
  try {
    await writeSeen('log.level = debug');
    const changedAt = performance.now();
    await reloads(2);
    const after = performance.now() - changedAt;
    assert.ok(after >= 900, `a reload ${after.toFixed(0)} ms after the change: not the new watcher's (debounce 1 s), one left behind by unwatch()`);
    assert.equal(seen.map((o) => o.trigger), ['file-change', 'file-change']);
    assert.is.not(seen[1]!.outcome, 'rejected');
  } finally {
    rewatch();
    ownWatcher.close();
  }
});

supervisor.run();
