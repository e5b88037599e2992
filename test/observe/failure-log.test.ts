import { Writable } from 'node:stream';
import { pino } from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FailureLog } from '../../src/observe/failure-log.ts';

interface Line {
  stage: string;
  reason: string;
  suppressed?: number;
  msg: string;
}

function capture(): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Line);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), lines };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Runs `body` at the start of a wall-clock second, so that it stays within that second. */
async function atSecondStart(body: () => void): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1000 - (performance.now() % 1000) + 5));
  body();
}

test('past the limit per stage and reason, failures are counted, not logged; a line says how many', async () => {
  const { logger, lines } = capture();
  const failures = new FailureLog(logger, 100);
  await atSecondStart(() => {
    for (let i = 0; i < 250; i++) failures.warn('campaign.placement', 'E_CIRCUIT_OPEN', { source: { line: i } }, 'circuit open');
    for (let i = 0; i < 3; i++) failures.warn('campaign.validate', 'E_TYPE', {}, 'must be string');
  });
  await settle();
  assert.is(lines.filter((l) => l.reason === 'E_CIRCUIT_OPEN').length, 100, 'the first 100 of a second');
  assert.is(lines.filter((l) => l.reason === 'E_TYPE').length, 3, 'another reason has its own limit');
  failures.flush();
  await settle();
  const summary = lines.filter((l) => l.suppressed !== undefined);
  assert.equal(summary.map((l) => [l.stage, l.reason, l.suppressed]), [['campaign.placement', 'E_CIRCUIT_OPEN', 150]]);
  failures.flush();
  await settle();
  assert.is(lines.filter((l) => l.suppressed !== undefined).length, 1, 'counted once');
});

test('what was left out is reported within about a second without further failures', async () => {
  const { logger, lines } = capture();
  const failures = new FailureLog(logger, 1);
  await atSecondStart(() => {
    for (let i = 0; i < 5; i++) failures.warn('content.doc', 'E_HTTP_UNAVAILABLE', {}, 'down');
  });
  await new Promise((resolve) => setTimeout(resolve, 1300));
  assert.equal(lines.filter((l) => l.suppressed !== undefined).map((l) => l.suppressed), [4]);
});

test('a new second starts a new allowance', async () => {
  const { logger, lines } = capture();
  const failures = new FailureLog(logger, 2);
  await atSecondStart(() => {
    for (let i = 0; i < 4; i++) failures.warn('s', 'R', {}, 'x');
  });
  await atSecondStart(() => {
    for (let i = 0; i < 4; i++) failures.warn('s', 'R', {}, 'x');
  });
  failures.flush();
  await settle();
  assert.is(lines.filter((l) => l.suppressed === undefined).length, 4, 'two logged in each second');
  const suppressed = lines.filter((l) => l.suppressed !== undefined).map((l) => l.suppressed!);
  assert.is(suppressed.reduce((a, b) => a + b, 0), 4, `two left out in each second, each counted once: ${suppressed}`);
});

test.run();
