// `sluice replay`: a flow's dead letters sent back to its input topic once their cause is fixed.
// The letters are read from the position a consumer group of the replay's own keeps (committed
// after their records are produced, so a second replay does not resend them) up to the end the
// topic had when the replay began (letters of records that fail again come after it). A record
// goes back with its key, value and original headers (the sluice.* ones a failure added are
// dropped) and `sluice.replay-count` one higher; one replayed `max-replays` times already, a
// letter without its value (sluice.value-omitted) or outside the chosen reasons and times stays.
import { Buffer } from 'node:buffer';
import kafkajs, { type IHeaders, type Message } from 'kafkajs';
import { SluiceError } from '../../errors.ts';
import { registerCodecs } from './codecs.ts';
import { security } from './kafkajs.ts';
import type { ConnectionOptions } from './transport.ts';

export const REPLAY_COUNT = 'sluice.replay-count';

export interface ReplayOptions {
  readonly connection: ConnectionOptions;
  readonly deadLetterTopic: string;
  readonly inputTopic: string;
  /** The consumer group keeping the replay's position in the dead-letter topic. */
  readonly groupId: string;
  /** Only letters with these reasons (sluice.reason); empty: all. */
  readonly reasons: readonly string[];
  /** Only letters written in [since, until) (their timestamps, ms since the epoch). */
  readonly since?: number;
  readonly until?: number;
  /** A record replayed this many times already stays a dead letter. */
  readonly maxReplays: number;
  /** Counts what would be replayed; produces and commits nothing. */
  readonly dryRun: boolean;
  /** Replays at most this many letters; the position stops before the next one, left for the next replay. */
  readonly limit?: number;
}

/** Per reason: letters replayed, and letters left with why. */
export interface ReplaySummary {
  readonly replayed: Map<string, number>;
  readonly left: Map<string, number>;
  /** The limit stopped the replay before the end offsets. */
  limited: boolean;
}

const text = (value: IHeaders[string]): string | undefined => {
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  return last === undefined ? undefined : last.toString();
};

const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

/** Why a letter stays, or undefined: it is replayed. */
function leftBecause(headers: IHeaders, timestamp: number, value: Buffer | null, options: ReplayOptions): string | undefined {
  if (options.reasons.length > 0 && !options.reasons.includes(text(headers['sluice.reason']) ?? '')) return 'other reason';
  if ((options.since !== undefined && timestamp < options.since) || (options.until !== undefined && timestamp >= options.until)) return 'outside the times';
  if (headers['sluice.value-omitted'] !== undefined || value === null) return 'value omitted';
  if (Number(text(headers[REPLAY_COUNT]) ?? 0) >= options.maxReplays) return `replayed ${options.maxReplays} times already`;
  return undefined;
}

/** The record a letter came from, its replay count one higher. */
function original(message: { key: Buffer | null; value: Buffer | null; headers?: IHeaders }): Message {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) if (!name.startsWith('sluice.') && value !== undefined) headers[name] = value;
  headers[REPLAY_COUNT] = String(Number(text(message.headers?.[REPLAY_COUNT]) ?? 0) + 1);
  return { key: message.key, value: message.value, headers };
}

export async function replayDeadLetters(options: ReplayOptions): Promise<ReplaySummary> {
  await registerCodecs();
  const { connection, deadLetterTopic: topic } = options;
  const kafka = new kafkajs.Kafka({
    clientId: `${connection.clientId}-replay`,
    brokers: [...connection.brokers],
    ...security(connection),
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const summary: ReplaySummary = { replayed: new Map(), left: new Map(), limited: false };
  let replays = 0;
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  const positions = new Map<number, bigint>();
  try {
    ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
    const [committed] = await admin.fetchOffsets({ groupId: options.groupId, topics: [topic] });
    const low = new Map((await admin.fetchTopicOffsetsByTimestamp(topic, 0)).map((p) => [p.partition, BigInt(p.offset)]));
    for (const { partition, offset } of committed?.partitions ?? []) positions.set(partition, BigInt(offset) >= 0n ? BigInt(offset) : (low.get(partition) ?? 0n));
  } catch (error) {
    throw new SluiceError('SLC_IO', `cannot read the offsets of ${topic}: ${(error as Error).message}`, { cause: error });
  } finally {
    await admin.disconnect();
  }
  const pending = () => [...ends].filter(([partition, end]) => (positions.get(partition) ?? 0n) < end).map(([partition]) => partition);
  if (pending().length === 0) return summary;

  const consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
  let finished!: () => void;
  let failed!: (error: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finished = resolve;
    failed = reject;
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => failed(payload.error));
  // also batches eachBatch never sees (transaction markers only): the end counts them
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (summary.limited) return;
    const next = BigInt(payload.lastOffset) + 1n;
    if (next > (positions.get(payload.partition) ?? 0n)) positions.set(payload.partition, next);
    if (pending().length === 0) finished();
  });
  try {
    await Promise.all([consumer.connect(), options.dryRun ? undefined : producer.connect()]);
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (summary.limited) return; // finishing: a batch fetched meanwhile stays for the next replay
        const end = ends.get(batch.partition) ?? 0n;
        const records: Message[] = [];
        let next = positions.get(batch.partition) ?? 0n;
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          if (offset >= end) break; // written after the replay began: the next one's
          const reason = text(message.headers?.['sluice.reason']) ?? '(no reason)';
          const why = leftBecause(message.headers ?? {}, Number(message.timestamp), message.value, options);
          if (why === undefined) {
            if (options.limit !== undefined && replays >= options.limit) {
              summary.limited = true; // the position stays at this letter
              break;
            }
            replays++;
            records.push(original(message));
            count(summary.replayed, reason);
          } else count(summary.left, `${reason}: ${why}`);
          next = offset + 1n;
        }
        if (!options.dryRun) {
          if (records.length > 0) await producer.send({ topic: options.inputTopic, messages: records, acks: -1 });
          await consumer.commitOffsets([{ topic, partition: batch.partition, offset: next.toString() }]);
        }
        positions.set(batch.partition, next);
        if (summary.limited || pending().length === 0) finished();
      },
    });
    await done;
  } catch (error) {
    if (error instanceof SluiceError) throw error;
    throw new SluiceError('SLC_IO', `replay of ${topic} to ${options.inputTopic}: ${(error as Error).message}`, { cause: error });
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
  }
  return summary;
}
