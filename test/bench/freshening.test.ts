// sluice bench replays its input in rounds: each round after the first is freshened where the flow
// keeps state (dedupe keys get fresh digits, latest versions and aggregate event times move
// forward), so a round is new input rather than all duplicates, stale versions or late events.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freshRound } from '../../src/bench/replay-input.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const lines = [
  '{"eventId":"3f2b8c1e-9a4d-4e2f-8b1a-0c9d8e7f6a5b","occurredAt":1740808801291,"type":"click"}',
  '{"id":"cnt-000123","author":{"id":"usr-9"},"version":3}',
  '{"eventId": 1234, "occurredAt": 1740810000000}',
  '{"eventId":"3f2b8c1e-9a4d-4e2f-8b1a-0c9d8e7f6a5b","eventId":"dup"',
  '{"eventId":"no-digits-here","occurredAt":1.5}',
].map((line) => encoder.encode(line));
const fresh = { keys: ['eventId', 'id'], versions: [], times: ['occurredAt'] };
const round = (r: number) => freshRound(lines, fresh, r).map((line) => decoder.decode(line));

test('keys get fresh digits each round, keeping their shape; other fields stay as they were', () => {
  const seen = new Set<string>();
  for (let r = 1; r <= 50; r++) {
    const [event, item] = round(r);
    const eventId = (JSON.parse(event!) as { eventId: string }).eventId;
    assert.match(eventId, UUID);
    assert.not.ok(seen.has(eventId), `round ${r}: a fresh id`);
    seen.add(eventId);
    const parsed = JSON.parse(item!) as { id: string; author: { id: string }; version: number };
    assert.match(parsed.id, /^cnt-[0-9]{6}$/);
    assert.is.not(parsed.id, 'cnt-000123');
    assert.equal([parsed.author.id, parsed.version], ['usr-9', 3], 'only the first value of the field, nothing else');
  }
});

test('event times move forward past every window of the round before (whole hours, more than the input spans)', () => {
  const t = (r: number) => (JSON.parse(round(r)[0]!) as { occurredAt: number }).occurredAt;
  assert.is(t(1) - 1740808801291, 2 * 3_600_000);
  assert.is(t(2) - t(1), 2 * 3_600_000);
  assert.is((JSON.parse(round(1)[2]!) as { occurredAt: number }).occurredAt - 1740810000000, 2 * 3_600_000);
});

test('a line that is not JSON keeps its bytes but for the key; a key without digits and a non-integer time stay', () => {
  const [, , number, broken, noDigits] = freshRound(lines, fresh, 1);
  assert.match(decoder.decode(number), /^\{"eventId": 1[0-9]{3}, "occurredAt": [0-9]+\}$/);
  assert.ok(decoder.decode(broken).endsWith('"eventId":"dup"'), 'still broken: a duplicate key');
  assert.is(noDigits, lines[4], 'the same bytes');
  assert.is(freshRound(lines, { keys: [], versions: [], times: [] }, 3)[1], lines[1]);
});

test('latest versions move above every version of the round before, keeping the key (a lookup by it still finds it)', () => {
  const items = [
    '{"id":"cnt-000001","version":1}',
    '{"id":"cnt-000002","version":9}',
    '{"id":"cnt-000003","version":"v2"}',
    '{"id":"cnt-000004","version":99999999999999999999}',
  ].map((line) => encoder.encode(line));
  const latest = { keys: [], versions: [{ key: 'id', version: 'version' }], times: [] };
  const at = (r: number) => freshRound(items, latest, r).map((line) => decoder.decode(line));
  assert.equal(at(1).slice(0, 2), ['{"id":"cnt-000001","version":10}', '{"id":"cnt-000002","version":18}']);
  assert.equal(at(2).slice(0, 2), ['{"id":"cnt-000001","version":19}', '{"id":"cnt-000002","version":27}']);
  const [, , stringVersion, hugeVersion] = at(1);
  assert.match(stringVersion!, /^\{"id":"cnt-[0-9]{6}","version":"v2"\}$/);
  assert.is.not(stringVersion, '{"id":"cnt-000003","version":"v2"}', 'a version that is no integer: a fresh key instead');
  assert.ok(hugeVersion!.endsWith('"version":99999999999999999999}'), 'past the safe integers: the version as it was');
  assert.is.not(hugeVersion, '{"id":"cnt-000004","version":99999999999999999999}');
});

test.run();
