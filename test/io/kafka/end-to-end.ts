// The end-to-end suite on a real broker that the Node and the Deno runs share (flows.test.ts,
// test/deno/kafka.test.ts): config/qal.conf with the run's own topics and groups, 1-partition
// input and output topics, the samples produced with `sluice produce`, one processor as a child
// process until every input is accounted for, then SIGTERM: exit 0 and the summary;
//   - the output records equal, in order and byte for byte, what the same flow writes in local
//     mode; each is keyed by the configured field;
//   - each dead letter carries the reason (and path) the expected outcome of the input at its
//     sluice.source.offset names, and the original key and bytes; one per failing input;
//   - the input offsets are committed: a rerun on the same group reads nothing before a marker
//     produced once it is assigned; the marker is a line the first run wrote, and the rerun's
//     state, restored from the changelog, drops it (a duplicate, a stale version): no output.
// The throughput the processor reached is printed (messages / time from partition assignment to
// the last output on the broker).
import { Buffer } from 'node:buffer';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { brokerList, BROKERS, committedOffsets, deadLettered, endOffsets, ensureBuilt, type Expected, type FlowCase, kcatRead, type Processor, rawLines, runLocalReference, SAMPLES, sluice, STAGE_FAILURES, uniqueNames, waitFor, writeKafkaOverlay, written } from './harness.ts';

export interface EndToEndOptions {
  title: string;
  /** How the processor runs, for test names ('' for Node, 'under Deno'). */
  runtime: string;
  /** Prefix of the run's topic and group names. */
  prefix: string;
  flows: readonly { flow: 'content' | 'campaign'; keyField: string; compression: string }[];
  requireEnvironment(): void;
  /** Starts `sluice run` on the configuration. */
  start(config: string, logFile: string): Processor;
}

export function endToEndSuite(options: EndToEndOptions): void {
  const unique = uniqueNames(options.prefix);

  const state: {
    dir: string;
    flows: FlowCase[];
    first?: Processor;
    rerun?: Processor;
    admin?: KafkajsAdmin;
    ran: boolean;
    dlqMaxMessageBytes: Map<string, number>;
    passed: number;
  } = { dir: '', flows: [], ran: false, dlqMaxMessageBytes: new Map(), passed: 0 };

  const requireRun = () => {
    if (!state.ran) throw new Error('the run did not complete: see the first test of this suite');
  };

  const flows = suite(options.title);
    const tests = options.flows.length * 2 + 2;
    const on = options.runtime === '' ? '' : ` ${options.runtime}`;

  flows.after(async () => {
    for (const p of [state.first, state.rerun]) if (p && !p.exit) await p.stop('SIGKILL');
    if (state.admin) {
      const topics = state.flows.flatMap((c) => [c.input, c.output, c.dlq]);
      if (state.passed === tests) await state.admin.deleteTopics({ topics }).catch(() => undefined);
      await state.admin.disconnect().catch(() => undefined);
    }
    // a failure keeps the processor's log, the configurations, local mode's outputs and the topics for inspection
    if (state.dir && state.passed === tests) rmSync(state.dir, { recursive: true, force: true });
    else if (state.dir) console.log(`  kept ${state.dir} (the processor's log: sluice.log)`);
  });

  flows(`every output and dead letter delivered${on}; SIGTERM: exit 0 with the summary of the run`, async () => {
    options.requireEnvironment();
    ensureBuilt();
    state.dir = mkdtempSync(join(tmpdir(), 'sluice-flows-'));
    for (const { flow, keyField, compression } of options.flows) {
      const lines = rawLines(join(SAMPLES, `${flow}.ndjson`));
      const expected = readFileSync(join(SAMPLES, `${flow}.expected.ndjson`), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Expected);
      assert.is(lines.length, expected.length, `${flow}: one expected outcome per sample line`);
      assert.ok(lines.every((l) => l.length > 0), `${flow}: no blank lines (offset n is line n+1)`);
      state.flows.push({
        flow, keyField, compression, lines, expected, reference: [], doneAt: 0,
        input: unique(`${flow}-in`), output: unique(`${flow}-out`), dlq: unique(`${flow}-dlq`), group: unique(`${flow}-group`),
      });
    }
    runLocalReference(state.dir, state.flows);

    const config = join(state.dir, 'kafka.conf');
    writeKafkaOverlay(config, state.flows, join(state.dir, 'sluice.log'));
    const created = sluice(['topics', 'create', '--config', config]);
    for (const c of state.flows) assert.match(created, `${c.input}\t1 partitions\tcreated`);
    for (const c of state.flows) {
      const produced = sluice(['produce', '--brokers', BROKERS, '--topic', c.input, '--file', join(SAMPLES, `${c.flow}.ndjson`), '--key', c.keyField, '--compression', c.compression]);
      assert.match(produced, `${c.lines.length} messages to ${c.input}`);
    }

    const kafka = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('observer'), logLevel: kafkajs.logLevel.NOTHING });
    state.admin = kafka.admin();
    await state.admin.connect();
    const admin = state.admin;
    for (const c of state.flows) {
      const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: c.dlq, configNames: ['max.message.bytes'] }] });
      state.dlqMaxMessageBytes.set(c.dlq, Number(described.resources[0]!.configEntries.find((e) => e.configName === 'max.message.bytes')!.configValue));
    }

    const processor = (state.first = options.start(config, join(state.dir, 'sluice.log')));
    await waitFor(
      `an output or a dead letter for every input not filtered (${state.flows.map((c) => `${c.flow}: ${written(c)} + ${deadLettered(c)}`).join(', ')})`,
      async () => {
        if (processor.exit) throw new Error(`sluice exited before its outputs were complete:\n${processor.explain()}`);
        // every input accounted for (an output or a dead letter): the tests below say which went where
        for (const c of state.flows) {
          if (c.doneAt === 0 && (await endOffsets(admin, c.output)) + (await endOffsets(admin, c.dlq)) >= c.lines.length - c.expected.filter((e) => e.filtered).length) c.doneAt = Date.now();
        }
        return state.flows.every((c) => c.doneAt > 0);
      },
      60_000,
      20,
    ).catch(async (error: unknown) => {
      await processor.stop('SIGKILL');
      throw new Error(`${(error as Error).message}\n${processor.explain()}`);
    });

    // throughput: every input message over the time from the first partition assignment to the last output
    const assigned = Math.min(...state.flows.map((c) => processor.assignments(c.flow)[0]?.time ?? Infinity));
    const done = Math.max(...state.flows.map((c) => c.doneAt));
    const total = state.flows.reduce((n, c) => n + c.lines.length, 0);
    const perFlow = state.flows.map((c) => `${c.flow} ${Math.round(c.lines.length / ((c.doneAt - assigned) / 1000))} msg/s`).join(', ');
    console.log(
      `  throughput${on}: ${total} messages in ${((done - assigned) / 1000).toFixed(2)} s from partition assignment: ${Math.round(total / ((done - assigned) / 1000))} msg/s (${perFlow}); ` +
        `${((done - processor.startedAt) / 1000).toFixed(2)} s from process start: ${Math.round(total / ((done - processor.startedAt) / 1000))} msg/s`,
    );

    const exit = await processor.stop('SIGTERM');
    state.ran = true; // the outputs are there to check, whatever the exit
    assert.equal(exit, { code: 0, signal: null }, processor.explain());
    for (const c of state.flows) {
      const invalid = c.expected.filter((e) => !e.ok && !STAGE_FAILURES.has(e.reason!)).length;
      const filtered = c.expected.filter((e) => e.filtered).length;
      const summary = `${c.flow}: ${c.lines.length} read, ${c.lines.length - invalid} valid, ${invalid} invalid, ${filtered} filtered, ${written(c)} written, ${deadLettered(c)} dead-lettered, 0 dropped`;
      assert.ok(processor.stdout.includes(summary), `summary line "${summary}" expected in:\n${processor.stdout}`);
    }
    state.passed++;
  });

  for (const { flow } of options.flows) {
    flows(`${flow}${on}: the output records equal local mode's, in order, byte for byte, keyed by the configured field`, () => {
      requireRun();
      const c = state.flows.find((f) => f.flow === flow)!;
      const outputs = kcatRead(c.output, false);
      if (outputs.length !== written(c)) {
        const got = new Set(outputs.map((m) => m.value?.toString('latin1')));
        const missing = c.reference.filter((r) => !got.has(r.toString('latin1')));
        assert.is(outputs.length, written(c), `records written, none twice; ${missing.length} of local mode's records missing, the first: ${missing.slice(0, 3).map((r) => r.toString('utf8')).join('\n')}`);
      }
      const firstDifference = outputs.findIndex((m, i) => !m.value || !m.value.equals(c.reference[i]!));
      assert.is(
        firstDifference,
        -1,
        firstDifference < 0 ? '' : `output #${firstDifference} differs from local mode's:\n  kafka: ${outputs[firstDifference]!.value?.toString('utf8')}\n  local: ${c.reference[firstDifference]!.toString('utf8')}`,
      );
      // the i-th record comes from the i-th input line that is valid and not filtered
      const sources = c.lines.filter((_, i) => c.expected[i]!.ok && !c.expected[i]!.filtered);
      outputs.forEach((m, i) => {
        const field = (JSON.parse(sources[i]!.toString('utf8')) as Record<string, unknown>)[c.keyField];
        assert.is(m.key?.toString('utf8'), String(field), `output #${i}: the key is the input's ${c.keyField}`);
      });
      state.passed++;
    });

    flows(`${flow}${on}: one dead letter per failing input, with its reason, path, source coordinates, original key and bytes`, () => {
      requireRun();
      const c = state.flows.find((f) => f.flow === flow)!;
      const inputs = kcatRead(c.input, false);
      assert.is(inputs.length, c.lines.length, 'the input topic holds every sample line');
      inputs.forEach((m, i) => assert.ok(m.offset === BigInt(i) && m.value?.equals(c.lines[i]!), `input offset ${i} is sample line ${i + 1}`));
      const letters = kcatRead(c.dlq, true);
      // dead letters of lines that should have been written (or filtered), by reason
      const wrong = letters.filter((l) => c.expected[Number(l.headers['sluice.source.offset'])]?.ok === true);
      const byReason = Object.entries(wrong.reduce<Record<string, number>>((n, l) => ({ ...n, [l.headers['sluice.reason']!]: (n[l.headers['sluice.reason']!] ?? 0) + 1 }), {}));
      assert.is(wrong.length, 0, `${wrong.length} dead letters of valid lines (${byReason.map(([r, n]) => `${r} ${n}`).join(', ')}), the first: ${JSON.stringify(wrong[0]?.headers)}`);
      assert.is(letters.length, deadLettered(c), 'dead letters');
      const maxMessageBytes = state.dlqMaxMessageBytes.get(c.dlq)!;
      const seen = new Set<number>();
      for (const letter of letters) {
        const h = letter.headers;
        const where = `dead letter ${letter.offset} (sluice.source.offset ${h['sluice.source.offset']})`;
        assert.ok(/^\d+$/.test(h['sluice.source.offset'] ?? ''), `${where}: a source offset`);
        const index = Number(h['sluice.source.offset']);
        const expected = c.expected[index];
        assert.ok(expected, `${where}: the offset of a sample line`);
        assert.not.ok(expected.ok, `${where}: line ${index + 1} should not be dead-lettered (${JSON.stringify(expected)}; headers ${JSON.stringify(h)})`);
        assert.not.ok(seen.has(index), `${where}: one dead letter for line ${index + 1}`);
        seen.add(index);
        assert.is(h['sluice.reason'], expected.reason, `${where}: sluice.reason of line ${index + 1}`);
        if (expected.path !== undefined) assert.is(h['sluice.path'], expected.path, `${where}: sluice.path of line ${index + 1}`);
        assert.is(h['sluice.source.topic'], c.input, `${where}: sluice.source.topic`);
        assert.is(h['sluice.source.partition'], '0', `${where}: sluice.source.partition`);
        assert.is(h['sluice.flow'], flow, `${where}: sluice.flow`);
        for (const name of ['sluice.message', 'sluice.stage', 'sluice.time']) assert.ok(h[name], `${where}: ${name}`);
        const input = inputs[index]!;
        assert.is(letter.key?.toString('hex') ?? null, input.key?.toString('hex') ?? null, `${where}: the original key`);
        const original = c.lines[index]!;
        if (h['sluice.value-omitted'] !== undefined) {
          // documented: a dead letter larger than its topic accepts keeps its headers, drops its value
          const headerBytes = Object.entries(h).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
          assert.ok(
            original.length + headerBytes + (input.key?.length ?? 0) + 128 > maxMessageBytes,
            `${where}: value omitted although ${original.length} bytes fit ${c.dlq} (max.message.bytes ${maxMessageBytes})`,
          );
          assert.is(letter.value?.length ?? 0, 0, `${where}: a value-omitted dead letter has an empty value`);
        } else assert.ok(letter.value?.equals(original), `${where}: the original bytes of line ${index + 1}`);
      }
      const want = c.expected.flatMap((e, i) => (e.ok ? [] : [i]));
      assert.equal([...seen].sort((a, b) => a - b), want, 'every failing line, once');
      state.passed++;
    });
  }

  flows(`the input offsets are committed${on}: a rerun on the same group reads nothing before a marker produced after, and its restored state drops the marker (a line written before)`, async () => {
    requireRun();
    const admin = state.admin!;
    for (const c of state.flows) {
      const committed = await committedOffsets(admin, c.group, c.input);
      assert.is(committed.get(0), String(c.lines.length), `${c.flow}: the committed offset is the end of ${c.input}`);
    }
    const before = await Promise.all(state.flows.map(async (c) => [await endOffsets(admin, c.output), await endOffsets(admin, c.dlq)]));
    const rerun = (state.rerun = options.start(state.first!.config, join(state.dir, 'sluice.log')));
    await waitFor(
      'the rerun to be assigned its partitions',
      () => {
        if (rerun.exit) throw new Error(`the rerun exited:\n${rerun.explain()}`);
        return state.flows.every((c) => rerun.assignments(c.flow).some((a) => a.time >= rerun.startedAt - 1000 && a.assigned.length > 0));
      },
      30_000,
    ).catch(async (error: unknown) => {
      await rerun.stop('SIGKILL');
      throw new Error(`${(error as Error).message}\n${rerun.explain()}`);
    });
    // the marker: one more input line (the first one written), produced once the rerun is assigned;
    // once the rerun committed past it, it has processed everything before it in the input
    const markers = state.flows.map((c) => c.lines[c.expected.findIndex((e) => e.ok && !e.filtered)]!);
    const producer = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('marker'), logLevel: kafkajs.logLevel.NOTHING }).producer();
    await producer.connect();
    try {
      await Promise.all(state.flows.map((c, i) => producer.send({ topic: c.input, messages: [{ value: markers[i]! }] })));
    } finally {
      await producer.disconnect();
    }
    await waitFor(
      'the rerun to commit the marker',
      async () => {
        if (rerun.exit) throw new Error(`the rerun exited:\n${rerun.explain()}`);
        const committed = await Promise.all(state.flows.map((c) => committedOffsets(admin, c.group, c.input)));
        return committed.every((offsets, i) => offsets.get(0) === String(state.flows[i]!.lines.length + 1));
      },
      30_000,
    ).catch(async (error: unknown) => {
      await rerun.stop('SIGKILL');
      throw new Error(`${(error as Error).message}\n${rerun.explain()}`);
    });
    const exit = await rerun.stop('SIGTERM');
    assert.equal(exit, { code: 0, signal: null }, rerun.explain());
    for (const c of state.flows) {
      assert.ok(rerun.stdout.includes(`${c.flow}: 1 read, 1 valid, 0 invalid, 1 filtered, 0 written, 0 dead-lettered, 0 dropped`), `${c.flow}: the rerun read the marker only, and dropped it:\n${rerun.stdout}`);
      assert.ok(rerun.stdout.includes(`filtered by stage: ${c.flow === 'content' ? 'drop-stale-versions' : 'drop-duplicates'} 1`), `${c.flow}: the state stage dropped the marker:\n${rerun.stdout}`);
    }
    const after = await Promise.all(state.flows.map(async (c) => [await endOffsets(admin, c.output), await endOffsets(admin, c.dlq)]));
    assert.equal(after, before, 'no output or dead letter written by the rerun');
    state.passed++;
  });

  flows.run();
}
