// Dead letters larger than their topic accepts. A dead letter copies its input, and an input its
// topic accepted (compressed, or under a larger limit) may be more than the dead-letter topic
// takes. At-least-once sends such a letter again without its value (kafka-sink.ts). In a
// transaction the refused produce aborts the whole batch, and redelivering it would fail the same
// way for ever; so a transaction refused as too large is tried again with the letters over their
// topic's limit without their values, then with every letter of the batch without its value. A
// batch still refused holds an output its topic cannot take: the flow fails, naming it.
import { Buffer } from 'node:buffer';
import { isSluiceError, SluiceError } from '../../errors.ts';
import type { PlacedMessage, TopicSend } from '../../component/types.ts';
import type { Admin, TopicPartition } from './transport.ts';

const EMPTY = new Uint8Array(0);

/** A dead letter without its value, saying why; its headers keep the source coordinates. */
export function withoutValue<M extends PlacedMessage>(letter: M, topic: string, why = `more than ${topic} accepts`): M {
  const note = `${letter.value?.length ?? 0} bytes, ${why}: the original is at the source coordinates`;
  return { ...letter, value: EMPTY, headers: { ...letter.headers, 'sluice.value-omitted': note } };
}

/** What a record takes in a record batch, rounded up: key, value, headers and the framing. */
function recordBytes(message: PlacedMessage): number {
  let size = 64 + (message.value?.length ?? 0) + (message.key?.length ?? 0);
  for (const name in message.headers) {
    const value = message.headers[name]!;
    size += 16 + Buffer.byteLength(name) + (typeof value === 'string' ? Buffer.byteLength(value) : value.length);
  }
  return size;
}

/** Each topic's max.message.bytes, asked once (a failed question is asked again next time). */
export function topicLimits(admin: () => Admin): (topic: string) => Promise<number> {
  const limits = new Map<string, Promise<number>>();
  return (topic) => {
    let limit = limits.get(topic);
    if (!limit) {
      limit = admin().maxMessageBytes(topic);
      limits.set(topic, limit);
      limit.catch(() => limits.delete(topic));
    }
    return limit;
  };
}

/** The sends with `omit` applied to the dead letters it picks; undefined when it picks none. */
function trimmed(sends: readonly TopicSend[], picks: (letter: PlacedMessage, send: TopicSend) => boolean, why: (send: TopicSend) => string): TopicSend[] | undefined {
  let changed = false;
  const out = sends.map((send) => {
    if (!send.deadLetters || !send.messages.some((m) => picks(m, send))) return send;
    changed = true;
    return { ...send, messages: send.messages.map((m) => (picks(m, send) ? withoutValue(m, send.topic, why(send)) : m)) };
  });
  return changed ? out : undefined;
}

export interface FittingOptions {
  /** The transaction: sends and offsets committed, or aborted and thrown. */
  readonly commit: (sends: readonly TopicSend[]) => Promise<void>;
  readonly limitOf: (topic: string) => Promise<number>;
  /** A transaction refused as too large (aborted). */
  readonly onRefused: (omitting: 'oversized letters' | 'every letter') => void;
  /** The input batch, for the error naming it. */
  readonly input: TopicPartition & { readonly next: bigint };
}

/** Commits a batch's transaction; refused as too large, again with dead letters' values omitted (see above). */
export async function commitFitting(sends: readonly TopicSend[], options: FittingOptions): Promise<void> {
  let refusal: SluiceError;
  try {
    return await options.commit(sends);
  } catch (error) {
    if (!isSluiceError(error, 'SLC_TOO_LARGE')) throw error;
    refusal = error;
  }
  const limits = new Map<string, number>();
  for (const send of sends) {
    if (send.deadLetters && !limits.has(send.topic)) limits.set(send.topic, await options.limitOf(send.topic).catch(() => Number.NaN));
  }
  const attempts = [
    // a limit unknown (not allowed to describe the topic) picks none here: the next attempt omits every value
    trimmed(sends, (m, send) => recordBytes(m) > limits.get(send.topic)!, (send) => `more than ${send.topic} accepts (${limits.get(send.topic)} bytes)`),
    trimmed(sends, (m) => (m.value?.length ?? 0) > 0, (send) => `a batch of dead letters more than ${send.topic} accepts`),
  ] as const;
  for (const [i, attempt] of attempts.entries()) {
    if (!attempt) continue;
    options.onRefused(i === 0 ? 'oversized letters' : 'every letter');
    try {
      return await options.commit(attempt);
    } catch (error) {
      if (!isSluiceError(error, 'SLC_TOO_LARGE')) throw error;
      refusal = error;
    }
  }
  const { topic, partition, next } = options.input;
  const outputs = sends.filter((s) => !s.deadLetters && s.messages.length > 0).map((s) => s.topic);
  throw new SluiceError(
    'SLC_IO',
    `the outputs of ${topic} partition ${partition} before offset ${next} are more than ${outputs.join(', ') || 'their topic'} accepts (max.message.bytes), dead letters without their values: the flow cannot deliver them`,
    { cause: refusal },
  );
}
