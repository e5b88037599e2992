// A produce request carries one record batch per partition, and the broker refuses a batch over
// the topic's max.message.bytes (1 MiB by default) whole. A large delivery (a fetch of 4 MiB of
// small messages gives as many outputs) therefore goes in chunks of at most MAX_CHUNK_BYTES of
// values, one request each, in order; a single larger message goes alone (and may be refused
// alone: the dead-letter paths handle that).

/** Values per produce request, uncompressed: half the broker's default limit leaves room for keys and headers. */
export const MAX_CHUNK_BYTES = 512 * 1024;

/** The messages in order, cut where a chunk would pass `maxBytes` of values; usually one chunk, the array itself. */
export function produceChunks<T extends { readonly value: Uint8Array | null }>(messages: readonly T[], maxBytes = MAX_CHUNK_BYTES): (readonly T[])[] {
  let total = 0;
  for (const m of messages) total += m.value?.length ?? 0;
  if (total <= maxBytes) return [messages];
  const out: T[][] = [];
  let chunk: T[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = m.value?.length ?? 0;
    if (chunk.length > 0 && bytes + size > maxBytes) {
      out.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(m);
    bytes += size;
  }
  if (chunk.length > 0) out.push(chunk);
  return out;
}
