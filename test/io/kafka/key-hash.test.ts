// The producer's key hash: where the Java client puts a keyed record (murmur2, sign bit cleared).
// Checked on the Java client's own test vectors and against @platformatic/kafka's partitioner.
import { Buffer } from 'node:buffer';
import { compatibilityPartitioner } from '@platformatic/kafka';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keyHash } from '../../../src/io/kafka/key-hash.ts';
import { prng } from '../../../scripts/support/random.ts';

test("the Java client's murmur2 test vectors (Kafka's UtilsTest)", () => {
  const vectors: [Uint8Array, number][] = [
    [Buffer.from('21'), -973932308],
    [Buffer.from('foobar'), -790332482],
    [Buffer.from('a-little-bit-long-string'), -985981536],
    [Buffer.from('a-little-bit-longer-string'), -1486304829],
    [Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971],
    [new Uint8Array([0x61, 0x62, 0x63]), 479470107],
  ];
  for (const [key, murmur2] of vectors) assert.is(keyHash(key), murmur2 & 0x7fffffff, Buffer.from(key).toString());
});

test("the same hash as the library's Java-compatible partitioner, on 20,000 random keys of 0 to 64 bytes", () => {
  const random = prng(7);
  for (let i = 0; i < 20_000; i++) {
    const key = Buffer.from(Array.from({ length: Math.floor(random() * 65) }, () => Math.floor(random() * 256)));
    assert.is(keyHash(key), compatibilityPartitioner({ topic: 't', value: Buffer.alloc(0) }, key), key.toString('hex'));
  }
});

test.run();
