// The file sink on real files: NDJSON outputs, size-delimited protobuf, append, and dead letters as
// one JSON line each with their headers, key (base64) and value (text, or base64 when not UTF-8).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { OutboundMessage } from '../../../src/component/types.ts';
import { fileSink } from '../../../src/io/local/file-sink.ts';
import { componentContext } from '../../support/component.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-file-sink-'));
const sink = suite('file sink');
sink.after(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (text: string) => new TextEncoder().encode(text);
const message = (value: Uint8Array, more: Partial<OutboundMessage> = {}): OutboundMessage => ({ key: null, value, headers: {}, ...more });

async function write(config: Record<string, unknown>, role: 'output' | 'dead-letter', ...batches: OutboundMessage[][]): Promise<Buffer> {
  const created = fileSink.create(fileSink.config.parse(config), componentContext(dir), role);
  for (const batch of batches) await created.write(batch);
  await created.close();
  return readFileSync(join(dir, String(config.path)));
}

sink('json: one line per output, in order; a directory that does not exist is made', async () => {
  const out = await write({ path: 'new/dir/out.ndjson' }, 'output', [message(bytes('{"a":1}')), message(bytes('{"b":2}'))], [message(bytes('{"c":3}'))]);
  assert.is(out.toString('utf8'), '{"a":1}\n{"b":2}\n{"c":3}\n');
});

sink('protobuf: a varint length before each record', async () => {
  const long = new Uint8Array(300).fill(7);
  const out = await write({ path: 'out.pb', encoding: 'protobuf' }, 'output', [message(Uint8Array.of(1, 2)), message(long)]);
  assert.equal([...out.subarray(0, 3)], [2, 1, 2]);
  assert.equal([...out.subarray(3, 5)], [0xac, 0x02], '300 as a varint');
  assert.is(out.length, 3 + 2 + 300);
});

sink('append keeps what the file held; without it the file is replaced', async () => {
  writeFileSync(join(dir, 'kept.ndjson'), 'old\n');
  assert.is((await write({ path: 'kept.ndjson', append: true }, 'output', [message(bytes('new'))])).toString(), 'old\nnew\n');
  assert.is((await write({ path: 'kept.ndjson' }, 'output', [message(bytes('only'))])).toString(), 'only\n');
});

sink('dead letters: headers, key in base64, the value as text or base64', async () => {
  const out = await write({ path: 'dlq.ndjson' }, 'dead-letter', [
    message(bytes('{"id":'), { key: bytes('k'), headers: { 'sluice.reason': 'E_TOKEN', raw: Uint8Array.of(0x68, 0x69) } }),
    message(Uint8Array.of(0xff, 0xfe)),
  ]);
  const lines = out.toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines, [
    { headers: { 'sluice.reason': 'E_TOKEN', raw: 'hi' }, key: 'aw==', value: '{"id":' },
    { headers: {}, valueBase64: '//4=' },
  ]);
});

sink.run();
