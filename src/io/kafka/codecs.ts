// Compression codecs for kafkajs beyond its built-in gzip, from maintained registry packages
// that need no native build: snappy (snappyjs via kafkajs-snappy), lz4 (lz4js, LZ4 frame format
// as Kafka uses it), zstd (the zstd wasm build of @bokuweb/zstd-wasm).
import { Buffer } from 'node:buffer';
import { compress as zstdCompress, decompress as zstdDecompress, init as zstdInit } from '@bokuweb/zstd-wasm';
import kafkajs from 'kafkajs';
import SnappyCodec from 'kafkajs-snappy';
import lz4 from 'lz4js';

interface Encoder {
  buffer: Buffer;
}

// kafkajs is CommonJS without static named exports
const { CompressionCodecs, CompressionTypes } = kafkajs;

let registered: Promise<void> | undefined;

/** Registers the codecs once per process. */
export function registerCodecs(): Promise<void> {
  registered ??= (async () => {
    await zstdInit();
    CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
    CompressionCodecs[CompressionTypes.LZ4] = () => ({
      compress: async (encoder: Encoder) => Buffer.from(lz4.compress(encoder.buffer)),
      decompress: async (buffer: Buffer) => Buffer.from(lz4.decompress(buffer)),
    });
    CompressionCodecs[CompressionTypes.ZSTD] = () => ({
      compress: async (encoder: Encoder) => Buffer.from(zstdCompress(encoder.buffer, 3)),
      decompress: async (buffer: Buffer) => Buffer.from(zstdDecompress(buffer)),
    });
  })();
  return registered;
}
