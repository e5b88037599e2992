// Compression codecs for kafkajs beyond its built-in gzip, from maintained registry packages
// that install from the registry alone: snappy (snappyjs, pure JS, via kafkajs-snappy), lz4
// (lz4-napi, prebuilt per platform; its frames have independent blocks, which Kafka's broker
// requires — lz4js's do not), zstd (the wasm build of @bokuweb/zstd-wasm).
import { Buffer } from 'node:buffer';
import { compress as zstdCompress, decompress as zstdDecompress, init as zstdInit } from '@bokuweb/zstd-wasm';
import kafkajs from 'kafkajs';
import SnappyCodec from 'kafkajs-snappy';
import { compressFrame as lz4Compress, decompressFrame as lz4Decompress } from 'lz4-napi';

interface Encoder {
  buffer: Buffer;
}

// kafkajs is CommonJS without static named exports
const { CompressionCodecs, CompressionTypes } = kafkajs;

let registered: Promise<void> | undefined;
let zstdReady: Promise<void> | undefined;

/** Loads the zstd wasm module once per process (a second load breaks the first one's compression). */
export function loadZstd(): Promise<void> {
  zstdReady ??= zstdInit();
  return zstdReady;
}

/** Registers the codecs once per process. */
export function registerCodecs(): Promise<void> {
  registered ??= (async () => {
    await loadZstd();
    CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
    CompressionCodecs[CompressionTypes.LZ4] = () => ({
      compress: (encoder: Encoder) => lz4Compress(encoder.buffer),
      decompress: (buffer: Buffer) => lz4Decompress(buffer),
    });
    CompressionCodecs[CompressionTypes.ZSTD] = () => ({
      compress: async (encoder: Encoder) => Buffer.from(zstdCompress(encoder.buffer, 3)),
      decompress: async (buffer: Buffer) => Buffer.from(zstdDecompress(buffer)),
    });
  })();
  return registered;
}
