// The load of `sluice bench --transport kafka`, in a process of its own so that its CPU is not
// counted as the flow's: a producer writing the replayed input to the flow's input topic, each
// message stamped with when it was due (open loop) or sent (saturation), and a reader of the
// flow's output and dead-letter topics measuring stamp -> arrival (no coordinated omission).
// Driven over the IPC channel by src/bench/kafka-bench.ts (LoadCommand in, LoadEvent out).
import { FetchIsolationLevels, MessagesStreamModes, Consumer } from '@platformatic/kafka';
import { build } from 'hdr-histogram-js';
import kafkajs from 'kafkajs';
import { type Freshening, freshensNothing, freshRound, readInput } from './replay-input.ts';

export interface LoadPlan {
  readonly brokers: readonly string[];
  readonly input: string;
  readonly outputs: readonly string[];
  readonly file: string;
  readonly freshening: Freshening;
  /** Messages per second; null: saturation (the input topic filled first with `prefill`). */
  readonly rate: number | null;
  readonly prefill: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  readonly percentiles: readonly number[];
}

export type LoadCommand =
  | { readonly type: 'plan'; readonly plan: LoadPlan }
  /** Saturation: the arrivals from now until `finish` are measured (their latency includes the wait in the filled topic). */
  | { readonly type: 'measure' }
  /** Report once this many outputs and dead letters arrived in all. */
  | { readonly type: 'finish'; readonly arrivals: number };

export type LoadEvent =
  /** Saturation: the input topic holds `sent` messages; open loop: the flow answered, the schedule starts. */
  | { readonly type: 'ready'; readonly sent: number }
  /** Open loop: the measured schedule starts (the warm-up's messages are not measured). */
  | { readonly type: 'measuring' }
  /** Open loop: every message was sent. */
  | { readonly type: 'sent'; readonly sent: number }
  | { readonly type: 'result'; readonly measured: number; readonly curve: readonly (readonly [number, number])[]; readonly max: number }
  | { readonly type: 'failed'; readonly message: string };

const SEND_CHUNK = 2000;
/** Arrivals that stop before `finish`'s count: what the flow wrote was lost, or never came. */
const ARRIVAL_SILENCE_MS = 30_000;

const send = (event: LoadEvent) => process.send!(event);
const nextCommand = () => new Promise<LoadCommand>((resolve) => process.once('message', (command: LoadCommand) => resolve(command)));

async function run(plan: LoadPlan): Promise<void> {
  const lines = readInput(plan.file);
  const rounds = new Map<number, Uint8Array[]>();
  const valueAt = (sequence: number): Uint8Array => {
    const round = Math.floor(sequence / lines.length);
    if (round === 0 || freshensNothing(plan.freshening)) return lines[sequence % lines.length]!;
    let fresh = rounds.get(round);
    if (!fresh) {
      rounds.clear();
      fresh = freshRound(lines, plan.freshening, round);
      rounds.set(round, fresh);
    }
    return fresh[sequence % lines.length]!;
  };
  const kafka = new kafkajs.Kafka({ clientId: 'sluice-bench-load', brokers: [...plan.brokers], logLevel: kafkajs.logLevel.ERROR });
  const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  let sequence = 0;
  const produce = async (count: number, stampOf: (i: number) => number) => {
    const messages = Array.from({ length: count }, (_, i) => ({ key: String((sequence + i) % 1000), value: Buffer.from(valueAt(sequence + i)), timestamp: String(stampOf(i)) }));
    sequence += count;
    await producer.send({ topic: plan.input, acks: 1, messages });
  };

  const histogram = build({ numberOfSignificantValueDigits: 3, highestTrackableValue: 3_600_000 });
  /** Open loop: messages stamped from then on are measured. */
  let measureFrom = Number.POSITIVE_INFINITY;
  /** Saturation (every message stamped when the topic was filled): arrivals while true are measured. */
  let measuring = false;
  let arrivals = 0;
  let measured = 0;
  let lastArrival = Date.now();
  let onArrival: (() => void) | undefined;
  const reader = new Consumer({ clientId: 'sluice-bench-reader', bootstrapBrokers: [...plan.brokers], groupId: `${plan.input}.reader` });
  const stream = await reader.consume({
    topics: [...plan.outputs],
    mode: MessagesStreamModes.EARLIEST,
    autocommit: false,
    maxWaitTime: 20,
    minBytes: 1,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
  });
  stream.on('data', (message: { timestamp: bigint }) => {
    arrivals++;
    const now = Date.now();
    lastArrival = now;
    const stamped = Number(message.timestamp);
    if (measuring || stamped >= measureFrom) {
      histogram.recordValue(Math.max(0, now - stamped));
      measured++;
    }
    onArrival?.();
  });
  const arrived = (count: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (arrivals >= count) return resolve();
        if (Date.now() - lastArrival > ARRIVAL_SILENCE_MS) return reject(new Error(`${arrivals} of ${count} outputs and dead letters arrived, then none for ${ARRIVAL_SILENCE_MS / 1000} s`));
        setTimeout(check, 100);
      };
      check();
    });

  const commands: LoadCommand[] = [];
  let onCommand: (() => void) | undefined;
  process.on('message', (command: LoadCommand) => {
    commands.push(command);
    onCommand?.();
  });
  const command = async (type: LoadCommand['type']): Promise<LoadCommand> => {
    for (;;) {
      const found = commands.findIndex((c) => c.type === type);
      if (found >= 0) return commands.splice(found, 1)[0]!;
      await new Promise<void>((wake) => (onCommand = wake));
    }
  };

  if (plan.rate === null) {
    while (sequence < plan.prefill) {
      const now = Date.now();
      await produce(Math.min(SEND_CHUNK, plan.prefill - sequence), () => now);
    }
    send({ type: 'ready', sent: sequence });
    await command('measure');
    measuring = true;
  } else {
    const rate = plan.rate;
    // the flow joins its group first: a trickle until its first output arrives (counted as warm-up)
    while (arrivals === 0) {
      const now = Date.now();
      await produce(10, () => now);
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, 200);
        onArrival = () => {
          clearTimeout(timer);
          wake();
        };
      });
    }
    onArrival = undefined;
    send({ type: 'ready', sent: sequence });
    /** Every 5 ms, what the schedule says is due, each stamped with when it was due. */
    const schedule = async (total: number) => {
      const t0 = Date.now();
      for (let done = 0; done < total; ) {
        const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * rate));
        if (due > done) {
          const from = done;
          await produce(due - done, (i) => t0 + Math.round(((from + i) / rate) * 1000));
          done = due;
        }
        await new Promise((wake) => setTimeout(wake, 5));
      }
      return t0;
    };
    await schedule(Math.round(rate * plan.warmupSeconds));
    measureFrom = Date.now();
    send({ type: 'measuring' });
    await schedule(Math.round(rate * plan.seconds));
    send({ type: 'sent', sent: sequence });
  }
  const finish = (await command('finish')) as Extract<LoadCommand, { type: 'finish' }>;
  // saturation: the window closed when the flow was told to stop (what it wrote before is read by now but for a fetch or two)
  measuring = false;
  await arrived(finish.arrivals);
  send({
    type: 'result',
    measured,
    curve: plan.percentiles.map((p) => [p, Math.min(histogram.getValueAtPercentile(p), histogram.maxValue)] as const),
    max: histogram.maxValue,
  });
  await stream.close();
  await Promise.all([reader.close(), producer.disconnect()]);
}

const first = await nextCommand();
if (first.type === 'plan') {
  try {
    await run(first.plan);
  } catch (error) {
    send({ type: 'failed', message: (error as Error).message });
  }
}
process.disconnect();
