// Output encoding: a record built by a map stage as JSON or protobuf, as the sink says; the input
// bytes as they came when no stage built a record.
import { create, fromBinary } from '@bufbuild/protobuf';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { recordTypes } from '../../schemas/index.ts';
import { ItemRecordSchema } from '../../schemas/recommender_pb.ts';
import type { FlowRecord } from '../../src/component/types.ts';
import { OutputEncoder } from '../../src/pipeline/output-encoder.ts';

const itemType = ItemRecordSchema;
const input = new TextEncoder().encode('{"id":"cnt-000001"}');

function record(output: FlowRecord['output']): FlowRecord {
  return { value: input, key: null, headers: {}, timestamp: undefined, origin: { kind: 'file', file: 'f', line: 1 }, receivedAt: 0, spans: new Int32Array(0), spanAt: 0, output };
}

const item = () => create(itemType, { itemId: 'cnt-000001', title: 'Ünïcode "title"', version: 2n ** 62n, tags: ['a', 'b'] });

test('no record built: the input bytes pass through, whatever the encoding', () => {
  for (const encoding of ['json', 'protobuf'] as const) assert.is(new OutputEncoder(recordTypes, encoding).encode(record(null)), input);
});

test('json: the record as proto JSON (int64 as a string), UTF-8', () => {
  const bytes = new OutputEncoder(recordTypes, 'json').encode(record(item()));
  assert.equal(JSON.parse(new TextDecoder().decode(bytes)), { itemId: 'cnt-000001', title: 'Ünïcode "title"', version: String(2n ** 62n), tags: ['a', 'b'] });
});

test('protobuf: the record in its binary form, read back equal', () => {
  const encoder = new OutputEncoder(recordTypes, 'protobuf');
  const decoded = fromBinary(itemType, encoder.encode(record(item())));
  assert.equal([decoded.itemId, decoded.title, decoded.version, decoded.tags], ['cnt-000001', 'Ünïcode "title"', 2n ** 62n, ['a', 'b']]);
  assert.equal(fromBinary(itemType, encoder.encode(record(item()))).itemId, 'cnt-000001', 'the second record of the type, with the encoder made for the first');
});

test.run();
