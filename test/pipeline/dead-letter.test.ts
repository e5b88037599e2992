// Dead letters: the original message untouched, with the reason, stage, place of a validation
// failure and source coordinates (file line, or topic, partition and offset as a decimal string).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { InputMessage } from '../../src/component/types.ts';
import { deadLetter, deadLetterHeaders, loggable } from '../../src/pipeline/dead-letter.ts';

const value = new TextEncoder().encode('{"id":');
const key = new TextEncoder().encode('k-1');

const fromKafka: InputMessage = {
  value,
  key,
  headers: { trace: 'abc', binary: new Uint8Array([1, 2]) },
  timestamp: '1764000000000',
  origin: { kind: 'kafka', topic: 'items', partition: 3, offset: 2n ** 60n + 7n },
  receivedAt: 0,
};

const fromFile: InputMessage = { ...fromKafka, headers: {}, timestamp: undefined, origin: { kind: 'file', file: 'samples/items.ndjson', line: 12 } };

test('a Kafka message: original key, value, headers and timestamp; reason, place and coordinates added', () => {
  const letter = deadLetter('content', 'content.validate', fromKafka, 'E_TOKEN', 'unexpected end', { path: '/id', offset: 6 });
  assert.is(letter.key, key);
  assert.is(letter.value, value);
  assert.is(letter.timestamp, '1764000000000');
  const { 'sluice.time': time, ...headers } = letter.headers;
  assert.ok(!Number.isNaN(Date.parse(String(time))), `sluice.time ${String(time)}`);
  assert.equal(headers, {
    trace: 'abc',
    binary: new Uint8Array([1, 2]),
    'sluice.flow': 'content',
    'sluice.stage': 'content.validate',
    'sluice.reason': 'E_TOKEN',
    'sluice.message': 'unexpected end',
    'sluice.source.topic': 'items',
    'sluice.source.partition': '3',
    'sluice.source.offset': '1152921504606846983',
    'sluice.path': '/id',
    'sluice.offset': '6',
  });
});

test('a file message: its file and line; no path or offset for a stage failure', () => {
  const headers = deadLetterHeaders('content', 'content.lookup', fromFile, 'E_LOOKUP_MISS', 'no row');
  assert.is(headers['sluice.source.file'], 'samples/items.ndjson');
  assert.is(headers['sluice.source.line'], '12');
  assert.is(headers['sluice.path'], undefined);
  assert.is(headers['sluice.offset'], undefined);
  assert.is(headers['sluice.keyword-location'], undefined);
  assert.is(headers['sluice.source.topic'], undefined);
});

test('a rule failure: the schema location of its keyword, and the failed branches of an anyOf as JSON', () => {
  const headers = deadLetterHeaders('campaign', 'campaign.validate', fromFile, 'E_ANY_OF', 'must match a schema in anyOf', {
    path: '/target',
    offset: 10,
    keywordLocation: '/properties/target/anyOf',
    branches: [
      { branch: 0, ok: false, code: 'E_TYPE', message: 'must be string', path: '/target', keywordLocation: '/properties/target/anyOf/0/type' },
      { branch: 1, ok: true, code: 'OK', message: 'matches' },
    ],
  });
  assert.is(headers['sluice.path'], '/target');
  assert.is(headers['sluice.keyword-location'], '/properties/target/anyOf');
  assert.equal(JSON.parse(String(headers['sluice.branches'])), [
    { branch: 0, code: 'E_TYPE', path: '/target', keywordLocation: '/properties/target/anyOf/0/type' },
    { branch: 1, ok: true },
  ]);
  assert.is(deadLetterHeaders('c', 'c.validate', fromFile, 'E_TYPE', 'must be string', { path: '', keywordLocation: '/type' })['sluice.branches'], undefined);
});

test('loggable origins: bigint offsets as text', () => {
  assert.equal(loggable(fromKafka.origin), { topic: 'items', partition: 3, offset: '1152921504606846983' });
  assert.equal(loggable(fromFile.origin), { file: 'samples/items.ndjson', line: 12 });
});

test.run();
