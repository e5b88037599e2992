// `sluice replay`'s --since and --until: an ISO 8601 time or a duration ago; anything else is a
// usage error that names both forms.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SluiceError } from '../src/errors.ts';
import { parseTime } from '../src/replay-command.ts';

const now = Date.parse('2026-12-05T16:00:00Z');

test('a duration ago, in ms, s, m, h or d', () => {
  assert.is(parseTime('--since', '250ms', now), now - 250);
  assert.is(parseTime('--since', '90s', now), now - 90_000);
  assert.is(parseTime('--since', '15m', now), now - 15 * 60_000);
  assert.is(parseTime('--since', '2h', now), now - 2 * 3_600_000);
  assert.is(parseTime('--until', '7d', now), now - 7 * 86_400_000);
});

test('an ISO 8601 time, with its offset', () => {
  assert.is(parseTime('--since', '2026-12-05T14:00:00Z', now), Date.parse('2026-12-05T14:00:00Z'));
  assert.is(parseTime('--since', '2026-12-05T15:00:00+01:00', now), Date.parse('2026-12-05T14:00:00Z'));
});

test('anything else: SLC_USAGE naming the option and both forms', () => {
  for (const value of ['yesterday', '15 m', '-5m', '1w', '1733400000000', '2026-13-45', 'May 5']) {
    try {
      parseTime('--since', value, now);
      assert.unreachable(`${value} was taken for a time`);
    } catch (error) {
      assert.instance(error, SluiceError, value);
      assert.is((error as SluiceError).code, 'SLC_USAGE');
      assert.match((error as Error).message, `--since ${value}: not a time (ISO 8601`);
      assert.match((error as Error).message, 'duration ago (90s, 15m, 2h, 7d)');
    }
  }
});

test.run();
