// Compression codecs for kafkajs beyond its built-in gzip, from maintained registry packages
// that install from the registry alone: snappy (snappyjs, pure JS, via kafkajs-snappy), lz4
// (lz4-napi, prebuilt per platform; its frames have independent blocks, which Kafka's broker
// requires — lz4js's do not), zstd (the wasm build of @bokuweb/zstd-wasm).
import { Buffer } from 'node:buffer';
import { compress as zstdCompress, decompress as zstdDecompressInto, init as zstdInit } from '@bokuweb/zstd-wasm';
import kafkajs from 'kafkajs';
import SnappyCodec from 'kafkajs-snappy';
import { compressFrame as lz4Compress, decompressFrame as lz4Decompress } from 'lz4-napi';
import { SluiceError } from '../../errors.ts';

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

const ZSTD_MAGIC = 0xfd2fb528;
const BLOCK_MAXIMUM_SIZE = 128 * 1024;
const FCS_BYTES = [0, 2, 4, 8];
/** The most a batch may decompress to: the wasm heap never shrinks, so a hostile batch must not grow it for good. */
const ZSTD_MAX_BATCH = 256 * 1024 * 1024;
const DICTIONARY_ID_BYTES = [0, 1, 2, 4];

/**
 * An upper bound of what zstd frames decompress to, from their block headers (RFC 8878 3.1.1: a
 * raw or RLE block regenerates its stated size, a compressed one at most 128 KiB), as
 * ZSTD_decompressBound does; undefined when the bytes are not well-formed frames. librdkafka and
 * the Java client write frames without their content size, and the wasm build's one-shot
 * decompress then assumes 1 MiB and fails on any larger batch.
 */
export function zstdDecompressedBound(frames: Uint8Array): number | undefined {
  const view = new DataView(frames.buffer, frames.byteOffset, frames.byteLength);
  let at = 0;
  let bound = 0;
  while (at < frames.length) {
    if (at + 4 > frames.length) return undefined;
    const magic = view.getUint32(at, true);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      // a skippable frame: magic, length, data
      if (at + 8 > frames.length) return undefined;
      at += 8 + view.getUint32(at + 4, true);
      continue;
    }
    if (magic !== ZSTD_MAGIC || at + 5 > frames.length) return undefined;
    const descriptor = frames[at + 4]!;
    const singleSegment = (descriptor & 0x20) !== 0;
    const fcsBytes = FCS_BYTES[descriptor >> 6]! || (singleSegment ? 1 : 0);
    at += 5 + (singleSegment ? 0 : 1) + DICTIONARY_ID_BYTES[descriptor & 3]! + fcsBytes;
    for (let last = false; !last; ) {
      if (at + 3 > frames.length) return undefined;
      const header = frames[at]! | (frames[at + 1]! << 8) | (frames[at + 2]! << 16);
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) return undefined;
      bound += type === 2 ? BLOCK_MAXIMUM_SIZE : size;
      at += 3 + (type === 1 ? 1 : size);
    }
    if ((descriptor & 4) !== 0) at += 4; // content checksum
  }
  return at === frames.length ? bound : undefined;
}

/** Decompresses zstd frames whatever their headers say about their content size. */
export function zstdDecompress(frames: Uint8Array): Buffer {
  const bound = zstdDecompressedBound(frames);
  if (bound === undefined) throw new SluiceError('SLC_IO', 'zstd: not well-formed frames');
  if (bound > ZSTD_MAX_BATCH) throw new SluiceError('SLC_IO', `zstd: frames that may decompress to ${bound} bytes, over the ${ZSTD_MAX_BATCH} a batch may take`);
  // the size is used only when a frame does not state its own
  const data = zstdDecompressInto(frames, { defaultHeapSize: Math.max(bound, 1) });
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
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
      decompress: async (buffer: Buffer) => zstdDecompress(buffer),
    });
  })();
  return registered;
}
