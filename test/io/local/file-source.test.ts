// The file source on real files: lines across chunk borders, CRLF, blank lines skipped (their line
// numbers kept), batches of batch-size, a last line without a newline, close() stopping the read.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { SourceBatch } from '../../../src/component/types.ts';
import { fileSource } from '../../../src/io/local/file-source.ts';
import { componentContext } from '../../support/component.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-file-source-'));
const source = suite('file source');
source.after(() => rmSync(dir, { recursive: true, force: true }));

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function read(name: string, content: string, config: Record<string, unknown> = {}): Promise<SourceBatch[]> {
  writeFileSync(join(dir, name), content);
  const batches: SourceBatch[] = [];
  for await (const batch of fileSource.create(fileSource.config.parse({ path: name, ...config }), componentContext(dir))) batches.push(batch);
  return batches;
}

source('every line a message with its line number; CRLF and blank lines; a last line without newline', async () => {
  const batches = await read('a.ndjson', '{"a":1}\r\n\n{"b":2}\n   \n{"c":3}');
  const messages = batches.flatMap((b) => b.messages);
  assert.equal(messages.map((m) => text(m.value)), ['{"a":1}', '{"b":2}', '   ', '{"c":3}'], 'a line of spaces is a message (the core calls it E_EMPTY)');
  assert.equal(messages.map((m) => (m.origin.kind === 'file' ? m.origin.line : -1)), [1, 3, 4, 5]);
  assert.ok(messages.every((m) => m.key === null && m.origin.kind === 'file' && m.origin.file === 'a.ndjson'));
});

source('lines longer than a chunk and lines across chunk borders arrive whole', async () => {
  const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(i * 300) }));
  const batches = await read('b.ndjson', `${lines.join('\n')}\n`, { 'chunk-size': 4096 });
  assert.equal(batches.flatMap((b) => b.messages.map((m) => text(m.value))), lines);
  await Promise.all(batches.map((b) => b.done()));
});

source('short lines come in batches of batch-size', async () => {
  const lines = Array.from({ length: 50 }, (_, i) => `{"i":${i}}`);
  const batches = await read('s.ndjson', `${lines.join('\n')}\n`, { 'batch-size': 16 });
  assert.equal(batches.map((b) => b.messages.length), [16, 16, 16, 2]);
  assert.equal(batches.flatMap((b) => b.messages.map((m) => text(m.value))), lines);
});

source('close() ends the read at the next chunk', async () => {
  writeFileSync(join(dir, 'c.ndjson'), `${Array.from({ length: 5000 }, (_, i) => `{"i":${i}}`).join('\n')}\n`);
  const reader = fileSource.create(fileSource.config.parse({ path: 'c.ndjson', 'chunk-size': 4096, 'batch-size': 10 }), componentContext(dir));
  let read = 0;
  for await (const batch of reader) {
    read += batch.messages.length;
    if (read === 10) await reader.close();
  }
  assert.ok(read < 5000, `read ${read} of 5000 after close()`);
});

source.run();
