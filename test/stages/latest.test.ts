// latest on its own: the highest version per key continues, a version not higher is stale
// (filtered, or dead-lettered with E_STALE), numbers and strings, a missing or odd key or version
// is a failure of its own, an on-disk store keeps the versions across runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SluiceError } from '../../src/errors.ts';
import { stages } from '../../src/pipeline/registry.ts';
import { latestStage } from '../../src/stages/latest.ts';
import { stageUnderTest } from '../support/stage.ts';

const rules = {
  type: 'object',
  properties: { id: { type: 'string' }, version: {}, meta: { type: 'object' } },
};

const describe = (outcome: { kind: string; code?: string; deadLetter?: boolean }) => (outcome.kind === 'fail' ? `fail:${outcome.code}:${outcome.deadLetter ? 'dlq' : 'drop'}` : outcome.kind);

async function outcomes(stage: ReturnType<typeof stageUnderTest>, messages: unknown[]): Promise<string[]> {
  const out: string[] = [];
  for (const message of messages) out.push(describe((await stage.run(message)).outcome as never));
  return out;
}

test('the registry lists latest', () => {
  assert.is(stages.latest, latestStage);
});

test('a higher version continues; an equal or lower one is stale (filtered); keys are apart', async () => {
  const latest = stageUnderTest(latestStage, { key: 'id', version: 'version', backend: 'memory' }, rules);
  assert.equal(
    await outcomes(latest, [
      { id: 'a', version: 1 },
      { id: 'a', version: 3 },
      { id: 'a', version: 2 },
      { id: 'b', version: 1 },
      { id: 'a', version: 3 },
      { id: 'a', version: 3.5 },
    ]),
    ['continue', 'continue', 'filtered', 'continue', 'filtered', 'continue'],
  );
  await latest.close();
});

test('string versions compare by code unit; on-stale = dlq dead-letters with E_STALE', async () => {
  const latest = stageUnderTest(latestStage, { key: 'id', version: 'version', 'on-stale': 'dlq', backend: 'memory' }, rules);
  assert.equal(await outcomes(latest, [{ id: 'a', version: '2026-01-02' }, { id: 'a', version: '2026-01-01' }, { id: 'a', version: '2026-01-03' }]), ['continue', 'fail:E_STALE:dlq', 'continue']);
  await latest.close();
});

test('a missing or non-scalar key is E_LATEST_KEY; a missing, odd or retyped version is E_LATEST_VERSION; never a crash', async () => {
  const latest = stageUnderTest(latestStage, { key: 'id', version: 'version', backend: 'memory' }, rules);
  assert.equal(
    await outcomes(latest, [{ version: 1 }, { id: 'a' }, { id: 'a', version: { v: 1 } }, { id: 'a', version: 1 }, { id: 'a', version: '2' }, { id: 'a', version: 2 }]),
    ['fail:E_LATEST_KEY:dlq', 'fail:E_LATEST_VERSION:dlq', 'fail:E_LATEST_VERSION:dlq', 'continue', 'fail:E_LATEST_VERSION:dlq', 'continue'],
  );
  await latest.close();
});

test('a key or version field the rules do not define: SLC_MAPPING at its key, before any message', () => {
  try {
    stageUnderTest(latestStage, { key: 'id', version: 'revision' }, rules);
    assert.unreachable('built');
  } catch (error) {
    assert.instance(error, SluiceError);
    assert.equal((error as SluiceError).problems.map((p) => p.path), ['version']);
  }
});

test('on disk: the versions are kept across runs', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'sluice-latest-'));
  try {
    const first = stageUnderTest(latestStage, { key: 'id', version: 'version' }, rules, { stateDir });
    assert.equal(await outcomes(first, [{ id: 'a', version: 5 }]), ['continue']);
    await first.close();
    const second = stageUnderTest(latestStage, { key: 'id', version: 'version' }, rules, { stateDir });
    assert.equal(await outcomes(second, [{ id: 'a', version: 4 }, { id: 'a', version: 6 }]), ['filtered', 'continue']);
    await second.close();
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test.run();
