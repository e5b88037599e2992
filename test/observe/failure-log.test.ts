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

/** A clock the test moves: the failures of one test happen within the second it says. */
function testClock(): { now: () => number; nextSecond: () => void } {
  let time = 5_000;
  return { now: () => time, nextSecond: () => void (time += 1000) };
}

/** Polls `condition` until it holds; fails after `timeoutMs`. */
async function until(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  for (const deadline = performance.now() + timeoutMs; !condition(); ) {
    if (performance.now() > deadline) assert.unreachable(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('past the limit per stage and reason, failures are counted, not logged; a line says how many', async () => {
  const { logger, lines } = capture();
  const failures = new FailureLog(logger, 100, testClock().now);
  for (let i = 0; i < 250; i++) failures.warn('campaign.placement', 'E_CIRCUIT_OPEN', { source: { line: i } }, 'circuit open');
  for (let i = 0; i < 3; i++) failures.warn('campaign.validate', 'E_TYPE', {}, 'must be string');
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
  const failures = new FailureLog(logger, 1, testClock().now);
  const started = performance.now();
  for (let i = 0; i < 5; i++) failures.warn('content.doc', 'E_HTTP_UNAVAILABLE', {}, 'down');
  await until('the line of what was left out', () => lines.some((l) => l.suppressed !== undefined), 3000);
  const after = performance.now() - started;
  assert.ok(after >= 900 && after < 2000, `reported ${after.toFixed(0)} ms after the failures, not at once nor late`);
  assert.equal(lines.filter((l) => l.suppressed !== undefined).map((l) => l.suppressed), [4]);
});

test('a new second starts a new allowance', async () => {
  const { logger, lines } = capture();
  const clock = testClock();
  const failures = new FailureLog(logger, 2, clock.now);
  for (let i = 0; i < 4; i++) failures.warn('s', 'R', {}, 'x');
  clock.nextSecond();
  for (let i = 0; i < 4; i++) failures.warn('s', 'R', {}, 'x');
  failures.flush();
  await settle();
  assert.is(lines.filter((l) => l.suppressed === undefined).length, 4, 'two logged in each second');
  const suppressed = lines.filter((l) => l.suppressed !== undefined).map((l) => l.suppressed!);
  assert.is(suppressed.reduce((a, b) => a + b, 0), 4, `two left out in each second, each counted once: ${suppressed}`);
});

test.run();
