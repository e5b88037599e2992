// kafka source: a consumer group member. Each fetched partition batch becomes one batch for the
// core; its offsets are committed only after the flow has delivered every message of it (outputs
// and dead letters acknowledged by the broker): at-least-once.
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { isSluiceError, SluiceError } from '../../errors.ts';
import { connectionFields } from '../../component/settings.ts';
import type { SourceSpec } from '../../component/spec.ts';
import type { InputMessage, Source, SourceBatch, TopicSend } from '../../component/types.ts';
import { loadClient, transportFor } from './connection.ts';
import { persistentInstanceId } from './instance-id.ts';
import { keyPartition } from './key-hash.ts';
import { commitFitting, topicLimits } from './oversized-letters.ts';
import { CommittedPurge } from './purge.ts';
import type { Admin, FetchedBatch, GroupMembership, Producer, TopicPartition, TransactionalProducer } from './transport.ts';

/**
 * Kafka's own default (max.partition.fetch.bytes). Measured at saturation (bench:e2e, the
 * campaign flow, input produced 1,000 messages a request) against 256 KiB: 1.4x the msg/s
 * at-least-once, 2.1x exactly-once (a batch is one transaction), the same open-loop latency at
 * 10,000 msg/s, about 20 % more CPU a message and 50-90 MiB more RSS at saturation.
 */
export const FETCH_BYTES_PER_PARTITION = 1024 * 1024;

const config = z
  .strictObject({
    ...connectionFields,
    topic: z.string().min(1).describe('The topic to consume'),
    'group-id': z.string().min(1).describe('The consumer group: instances with the same group share the partitions'),
    'instance-id': z
      .string()
      .min(1, 'empty: an instance id is a name without spaces (leave it unset for dynamic membership)')
      .regex(/^\S*$/, 'an instance id has no spaces')
      .optional()
      .describe(
        "Static membership (KIP-345), e.g. ${?HOSTNAME} of a StatefulSet pod: one per instance, kept across restarts. A restarted instance takes its partitions back at once (no wait for the session timeout) and, exactly-once, aborts the transaction it left open (its transactional id is stable). A second live instance with the same id fences the first, which stops with an error. platformatic client only",
      ),
    'from-beginning': z.boolean().default(true).describe('With no committed offset, start at the earliest (true) or latest (false) offset'),
    'read-committed': z.boolean().default(true).describe('Read only committed transactional data'),
    'session-timeout-ms': z.number().int().min(6000).default(30_000).describe('The group drops a member silent for this long'),
    'heartbeat-interval-ms': z.number().int().min(100).default(3_000).describe('Heartbeats, also sent while a long batch is processed'),
    'max-bytes-per-partition': z
      .number()
      .int()
      .min(1024)
      .default(FETCH_BYTES_PER_PARTITION)
      .describe('Fetch size per partition: bounds a batch (a larger record is still fetched whole)'),
    'max-wait-ms': z.number().int().min(0).default(100).describe('How long a fetch waits for data: the idle latency floor'),
    'partitions-in-flight': z
      .number()
      .int()
      .min(1)
      .default(8)
      .describe("Partition batches handed over before the first is delivered (on platformatic, a partition's next batch is fetched while its last is delivered)"),
    'commit-interval-ms': z
      .number()
      .int()
      .min(0)
      .default(1000)
      .describe('at-least-once: delivered offsets are committed this often (0: after every batch, a round trip each); a crash redelivers at most this much'),
    'commit-interval-messages': z
      .number()
      .int()
      .min(0)
      .default(5000)
      .describe('at-least-once: delivered offsets are also committed once this many messages were delivered since the last commit, so that a high rate does not leave a whole interval to redeliver after a crash (0: by time only)'),
    'state-dir': z
      .string()
      .min(1)
      .optional()
      .describe(
        'Where the flow\'s state stores go (<state-dir>/<flow>/<store>/<partition>/; default: the run\'s state dir, .sluice-state under the working directory); and, exactly-once without instance-id (platformatic), where the generated instance id is kept across restarts (a file per group; default: sluice/ in the system temp directory), so that a restart aborts the transaction its predecessor left open at once. Relative to the configuration file',
      ),
    'transaction-timeout-ms': z
      .number()
      .int()
      .min(1000)
      .default(20_000)
      .describe('exactly-once: the broker aborts a transaction left open this long (keep it below the session timeout)'),
    'purge-interval-ms': z
      .number()
      .int()
      .min(0)
      .default(30_000)
      .describe(
        "Reading a flow's repartition topic (the part after a key-by): the records its group has committed are deleted this often, as Kafka Streams purges repartition topics (0: kept until the topic's retention deletes them). Other topics are never purged",
      ),
  })
  .refine((c) => c['instance-id'] === undefined || c.client === 'platformatic', {
    path: ['instance-id'],
    error: 'static membership needs client = platformatic (kafkajs has no group.instance.id)',
  });

const EMPTY = new Uint8Array(0);
const partitionName = ({ topic, partition }: { topic: string; partition: number }) => `${topic} partition ${partition}`;

export const kafkaSource: SourceSpec<typeof config> = {
  kind: 'kafka',
  summary: 'Consumes a topic as a member of a consumer group; commits after delivery.',
  config,
  examples: [{ brokers: '127.0.0.1:9092', topic: 'content-items', 'group-id': 'sluice-content' }],
  load: (options) => loadClient(options.client),
  create(options, context): Source {
    const transport = transportFor(options, context);
    const groupId = options['group-id'];
    const consumer = transport.consumer({
      groupId,
      ...(options['instance-id'] === undefined ? {} : { instanceId: options['instance-id'] }),
      topics: [options.topic],
      fromBeginning: options['from-beginning'],
      readCommitted: options['read-committed'],
      sessionTimeoutMs: options['session-timeout-ms'],
      heartbeatIntervalMs: options['heartbeat-interval-ms'],
      maxBytesPerPartition: options['max-bytes-per-partition'],
      maxWaitMs: options['max-wait-ms'],
      partitionsInFlight: options['partitions-in-flight'],
      // exactly-once does not: a transaction that aborts is fetched again, and the batch after it
      // must not commit meanwhile; at-least-once commits nothing after a failed delivery
      prefetch: context.delivery === 'at-least-once',
    });
    const metrics = context.metrics.kafkaSource(context.flow);
    // the flow's state stores: restored from their changelogs on assignment, before the
    // partition's first batch; checkpointed and closed on revocation and clean shutdown
    const state = context.state;
    const reader = state && transport.partitionReader();
    let changelogWriter: Producer | undefined;
    if (state) {
      const writer = {
        // at-least-once: a batch's changelog records once its outputs are acknowledged
        send: (topic: string, messages: Parameters<Producer['send']>[1]) => (changelogWriter ??= transport.producer({ compression: 'none', acks: -1, idempotent: true })).send(topic, messages),
        close: async () => changelogWriter?.close(),
      };
      state.attach(groupId, reader!, writer, options['state-dir'] === undefined ? undefined : resolve(context.baseDir, options['state-dir']));
    }
    /** Partitions whose stores are open or being restored (their batches wait for `stateChanges`). */
    let owned = new Set<number>();
    let stateChanges: Promise<void> = Promise.resolve();
    /**
     * Partitions assigned whose first batch has not come yet: the previous owner may have committed
     * after their stores were restored (its last transaction settling, or fenced only by the
     * first batch's producer on kafkajs), so that batch first reads what the changelogs gained.
     */
    const unrefreshed = new Set<number>();
    /** The last batch handed over per partition, settled once delivered: a store closes after it. */
    const lastOfPartition = new Map<number, Promise<void>>();
    const followAssignment = (assigned: readonly TopicPartition[]) => {
      if (!state) return;
      const mine = new Set(assigned.filter((p) => p.topic === options.topic).map((p) => p.partition));
      const gone = [...owned].filter((p) => !mine.has(p));
      const added = [...mine].filter((p) => !owned.has(p));
      owned = mine;
      for (const p of gone) unrefreshed.delete(p);
      for (const p of added) unrefreshed.add(p);
      if (gone.length === 0 && added.length === 0) return;
      stateChanges = stateChanges
        .then(async () => {
          if (gone.length > 0) {
            await Promise.all(gone.map((p) => lastOfPartition.get(p)?.catch(() => undefined)));
            await state.revoke(gone);
          }
          if (added.length > 0) await state.assign(added);
        })
        .catch((error: unknown) => {
          crashed ??= error as Error;
          notify();
        });
    };
    const checkpointState = () => {
      state?.checkpoint().catch((error: unknown) => {
        // the disk: the flow fails; the brokers: the next commit checkpoints
        if (error instanceof SluiceError) {
          crashed ??= error;
          notify();
        } else context.logger.warn({ flow: context.flow, error: (error as Error).message }, 'state checkpoint failed: will retry after the next commit');
      });
    };
    let joined = false;
    consumer.onRebalance((assigned) => {
      joined = true;
      metrics.assigned(assigned);
      context.logger.info({ flow: context.flow, assigned: assigned.map((p) => `${p.topic}-${p.partition}`) }, 'partitions assigned');
      followAssignment(assigned);
      // registering the id now, not at the first batch, aborts what a killed predecessor left
      // open: its pending offsets would otherwise hold this member's offset fetch (KIP-447) until
      // the transaction timeout; a failure is tried again at the first commit
      if (context.delivery === 'exactly-once' && transport.fencesByGroup && assigned.length > 0) {
        producerFor(assigned[0]!.topic, assigned[0]!.partition)[1].init().catch(() => undefined);
      }
    });
    // exactly-once: one transactional producer per input partition (kafkajs has no KIP-447), its
    // id stable across instances so that a new owner of the partition fences the old one; or, when
    // the group fences zombies itself (KIP-447), one for all partitions, its id this instance's
    // own: of its instance-id, which a restart keeps (registering it aborts what the last run left
    // open), else of this run
    const staticId = options['instance-id'];
    const kept = staticId === undefined && context.delivery === 'exactly-once' && transport.fencesByGroup
      ? persistentInstanceId(resolve(context.baseDir, options['state-dir'] ?? join(tmpdir(), 'sluice')), groupId)
      : undefined;
    const instanceId = staticId ?? kept?.id ?? randomUUID();
    const producers = new Map<string, TransactionalProducer>();
    const producerFor = (topic: string, partition: number) => {
      const id = transport.fencesByGroup ? `${groupId}-${instanceId}` : `${groupId}-${topic}-${partition}`;
      let producer = producers.get(id);
      if (!producer) {
        producer = transport.transactionalProducer(id, { transactionTimeoutMs: options['transaction-timeout-ms'] });
        producers.set(id, producer);
        context.logger.info({ flow: context.flow, transactionalId: id, ...(kept ? { keptFromLastRun: kept.reused } : {}) }, 'transactional producer');
      }
      return [id, producer] as const;
    };
    // at-least-once: the highest delivered offset per partition, committed together every commit
    // interval; one commit at a time, and an offset leaves `delivered` only once it is committed
    // (a commit retried through a broker outage must not land after a newer one)
    const delivered = new Map<string, { topic: string; partition: number; next: bigint }>();
    const commitEvery = options['commit-interval-messages'];
    let commitTimer: ReturnType<typeof setTimeout> | undefined;
    let committing: Promise<void> = Promise.resolve();
    /** Messages delivered since the last commit began (commit-interval-messages). */
    let deliveredSinceCommit = 0;
    const commitOnce = async () => {
      clearTimeout(commitTimer);
      commitTimer = undefined;
      deliveredSinceCommit = 0;
      if (delivered.size === 0) return;
      const offsets = [...delivered.values()];
      const started = performance.now();
      try {
        await consumer.commit(offsets);
        metrics.commitsOk.inc();
        metrics.commitDuration.record((performance.now() - started) / 1000);
        checkpointState();
        for (const o of offsets) {
          const id = `${o.topic}\u0000${o.partition}`;
          if (delivered.get(id)?.next === o.next) delivered.delete(id);
          purge?.committed(o.partition, o.next);
        }
      } catch (error) {
        metrics.commitsFailed.inc();
        // not committed: kept for the next commit; a crash meanwhile redelivers those batches
        context.logger.warn({ flow: context.flow, error: (error as Error).message }, 'commit failed: will retry with the next commit');
      }
    };
    const commitDelivered = () => (committing = committing.then(commitOnce));
    consumer.onRebalancing(() => {
      joined = false;
      void commitDelivered();
    });
    // fetches that keep failing while heartbeats succeed: the brokers answer, the partitions read
    // nothing; one line when it starts, one when it ends, and /readyz fails after max-broker-silence-ms
    consumer.onFetchFailure((failure) => {
      metrics.fetchFailing.set(failure?.partitions.length ?? 0);
      if (failure) context.logger.warn({ flow: context.flow, partitions: failure.partitions.map(partitionName), error: withoutBrokers(failure.error.message) }, 'fetches failing: retrying');
      else context.logger.info({ flow: context.flow }, 'fetches succeed again');
    });
    /** An error's message without the broker addresses (readiness and logs name no configuration value). */
    const withoutBrokers = (message: string) => options.brokers.reduce((text, broker) => text.replaceAll(broker, 'a broker'), message);
    let crashed: Error | undefined;
    consumer.onFatal((error) => {
      // the client gave up (it will not restart the consumer): fail the flow rather than idle
      crashed = error instanceof SluiceError ? error : new SluiceError('SLC_IO', `flow ${context.flow}: the Kafka consumer stopped: ${withoutBrokers(error.message)}`, { cause: error });
      notify();
    });
    const queue: SourceBatch[] = [];
    let wake: (() => void) | undefined;
    let stopped = false;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    let pending = 0; // batches handed over and not yet delivered
    let admin: Admin | undefined;
    const limitOf = topicLimits(() => (admin ??= transport.admin()));
    const purge =
      context.readsInternalTopic === true && options['purge-interval-ms'] > 0
        ? new CommittedPurge(options.topic, options['purge-interval-ms'], () => (admin ??= transport.admin()), (error) =>
            context.logger.warn({ flow: context.flow, topic: options.topic, error: withoutBrokers(error.message) }, 'purging committed records failed: will retry'),
          )
        : undefined;
    /**
     * exactly-once: the first batch of a partition (for this producer) waits until the partition's
     * transactional producer is registered, which fences a previous owner and settles its open
     * transaction; records that owner committed meanwhile were fetched from an older offset and
     * are dropped here (the recipe of transactions without KIP-447).
     */
    const fenceFirst = async (fetched: FetchedBatch): Promise<FetchedBatch> => {
      const [, producer] = producerFor(fetched.topic, fetched.partition);
      if (!(await producer.init())) return fetched;
      admin ??= transport.admin();
      const committed = await admin.committedOffset(groupId, fetched.topic, fetched.partition);
      return { ...fetched, records: fetched.records.filter((r) => r.offset >= committed) };
    };
    /**
     * How a batch is acknowledged, and a promise that settles with it. Built apart from the batch:
     * it outlives the batch's records and messages, which then die young instead of waiting for
     * the outputs' round trip to the broker.
     */
    const acknowledgement = (topic: string, partition: number, next: bigint, highWatermark: bigint, membership: GroupMembership | undefined, messages: number) => {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const settled = new Promise<void>((resolved, rejected) => {
        resolve = resolved;
        reject = rejected;
      });
      pending++;
      const lane = `${topic}\u0000${partition}`;
      const deliverAtomically = async (sends: readonly TopicSend[]) => {
        const [id, producer] = producerFor(topic, partition);
        const started = performance.now();
        try {
          const input = { topic, partition, next };
          await commitFitting(sends, {
            commit: (fitting) => producer.commitBatch(fitting, input, groupId, membership),
            limitOf,
            input,
            onRefused: (omitting) => {
              metrics.transactionsAborted.inc();
              context.logger.warn({ flow: context.flow, topic, partition, omitting }, 'transaction refused as too large: trying again with dead letters without their values');
            },
          });
          metrics.transactionsCommitted.inc();
          metrics.transactionDuration.record((performance.now() - started) / 1000);
          metrics.lag(topic, partition, highWatermark, next);
          purge?.committed(partition, next);
          pending--;
          resolve();
          // once the flow has written the batch's state (right after this resolves)
          if (state) setImmediate(checkpointState);
          return true;
        } catch (error) {
          metrics.transactionsAborted.inc();
          pending--;
          // aborted: the batch is fetched again from the committed offset, by us or the new owner
          if (isSluiceError(error, 'SLC_FENCED')) {
            producers.delete(id);
            await producer.close().catch(() => undefined);
            // registering the id again would fence the instance that took it: twins would take
            // turns aborting each other's transactions
            if (staticId !== undefined) {
              crashed ??= new SluiceError('SLC_IO', `another instance registered transactional id ${id} (instance-id ${staticId}): this one is fenced and stops`, { cause: error });
              notify();
            }
          }
          context.logger.warn({ flow: context.flow, topic, partition, error: (error as Error).message }, 'transaction aborted: the batch will be redelivered');
          reject(error);
          // a batch that can never be delivered fails the flow instead of coming back for ever
          if (error instanceof SluiceError && !error.retriable) throw error;
          return false;
        }
      };
      const done = async () => {
        if ((delivered.get(lane)?.next ?? -1n) < next) delivered.set(lane, { topic, partition, next });
        metrics.lag(topic, partition, highWatermark, next);
        // while closing, commit before the handler returns: kafkajs leaves the group right after
        deliveredSinceCommit += messages;
        if (options['commit-interval-ms'] === 0) await commitDelivered();
        else if (commitEvery > 0 && deliveredSinceCommit >= commitEvery) {
          deliveredSinceCommit = 0; // one commit asked for these, not one per batch until it starts
          void commitDelivered();
        } else commitTimer ??= setTimeout(() => void commitDelivered(), options['commit-interval-ms']);
        pending--;
        resolve();
      };
      return { lane, settled, done, ...(context.delivery === 'exactly-once' ? { deliverAtomically } : {}) };
    };
    const handOver = async (fetchedBatch: FetchedBatch) => {
      // a partition's batches reach the queue in fetch order, whatever each waits for first (the
      // first one a refresh or a fence): a later version overtaking an earlier one makes it stale
      const { partition } = fetchedBatch;
      const earlier = queuedOf.get(partition);
      let queued!: () => void;
      const mine = new Promise<void>((resolve) => (queued = resolve));
      queuedOf.set(partition, mine);
      try {
        return await queueInOrder(fetchedBatch, earlier);
      } finally {
        queued();
        if (queuedOf.get(partition) === mine) queuedOf.delete(partition);
      }
    };
    /** A partition's last batch handed over, settled once it is queued (or dropped). */
    const queuedOf = new Map<number, Promise<void>>();
    const queueInOrder = async (fetchedBatch: FetchedBatch, earlier: Promise<void> | undefined) => {
      const fetched = context.delivery === 'exactly-once' && !transport.fencesByGroup ? await fenceFirst(fetchedBatch) : fetchedBatch;
      const { topic, partition, records, highWatermark } = fetched;
      await earlier;
      if (records.length === 0) return;
      if (state) {
        if (!owned.has(partition)) followAssignment(consumer.assignment());
        await stateChanges; // its stores restored
        // taken away meanwhile: the new owner reads it from the committed offset
        if (!owned.has(partition) || crashed) return;
        if (unrefreshed.delete(partition)) {
          try {
            await state.refresh([partition]);
          } catch (error) {
            crashed ??= error as Error;
            notify();
            return;
          }
        }
      }
      metrics.lag(topic, partition, highWatermark, records[0]!.offset);
      const { settled, ...acknowledge } = acknowledgement(topic, partition, records[records.length - 1]!.offset + 1n, highWatermark, fetched.membership, records.length);
      const receivedAt = performance.now();
      const messages: InputMessage[] = records.map((r) => ({
        value: r.value ?? EMPTY,
        key: r.key,
        headers: r.headers,
        timestamp: r.timestamp,
        origin: { kind: 'kafka', topic, partition, offset: r.offset },
        receivedAt,
      }));
      queue.push({ messages, ...acknowledge });
      notify();
      if (state) lastOfPartition.set(partition, settled);
      return settled;
    };
    /**
     * Before the group is joined: a missing changelog is the user's to create, every one named at
     * once; queries learn how the input places a key.
     */
    const prepareState = async () => {
      if (!state) return;
      admin ??= transport.admin();
      const changelogs = state.changelogs();
      const [input, ...ends] = await Promise.all([options.topic, ...changelogs].map((topic) => admin!.endOffsets(topic)));
      if (input !== undefined && input.length > 0) state.partitionedBy((key) => keyPartition(key, input.length));
      const missing = changelogs.filter((_, i) => ends[i] === undefined);
      if (missing.length === 0) return;
      const many = missing.length > 1;
      throw new SluiceError('SLC_CONFIG', `flow ${context.flow}: changelog topic${many ? 's' : ''} ${missing.join(', ')} missing: create ${many ? 'them' : 'it'} with \`sluice topics create\``);
    };
    let running: Promise<void> | undefined;
    return {
      async *[Symbol.asyncIterator]() {
        const unready = context.metrics.readiness.add(({ maxBrokerSilenceMs }) => {
          if (crashed) return `flow ${context.flow}: the Kafka consumer stopped`;
          if (!joined) return `flow ${context.flow}: not a member of its consumer group (no partitions assigned yet)`;
          const silentMs = performance.now() - consumer.lastContact();
          if (silentMs > maxBrokerSilenceMs) return `flow ${context.flow}: no answer from the Kafka brokers for ${Math.round(silentMs / 1000)} s`;
          const failure = consumer.fetchFailure();
          const failingMs = failure === undefined ? 0 : performance.now() - failure.since;
          if (failure === undefined || failingMs <= maxBrokerSilenceMs) return undefined;
          return `flow ${context.flow}: fetches of ${failure.partitions.map(partitionName).join(', ')} failing for ${Math.round(failingMs / 1000)} s: ${withoutBrokers(failure.error.message)}`;
        });
        try {
          running ??= prepareState().then(() => consumer.run(handOver));
          await running;
          for (;;) {
            const batch = queue.shift();
            if (batch) yield batch;
            else if (crashed) throw crashed;
            else if (stopped) return;
            else await new Promise<void>((resolve) => (wake = resolve));
          }
        } finally {
          unready();
        }
      },
      async close() {
        // no new batches; the ones handed over are delivered by the flow meanwhile; then commit
        // while still a member (kafkajs drops commits once stop() has begun) and leave
        consumer.pause();
        while (pending > 0) await new Promise((resolve) => setTimeout(resolve, 20));
        await commitDelivered();
        await purge?.stop();
        if (state) {
          await stateChanges;
          await state.close();
          await Promise.all([reader!.close(), changelogWriter?.close()]);
        }
        await consumer.stop();
        await Promise.all([...producers.values()].map((p) => p.close()));
        await admin?.close();
        await consumer.close();
        kept?.release();
        stopped = true;
        notify();
      },
    };
  },
};
