// A flow's state: the stores its stages declared, per input partition, and the batch state each
// batch works in. On Kafka the source drives it (PartitionedState: restore on assignment,
// checkpoint and close on revocation and shutdown) and a batch's writes are remembered with its
// delivery: their changelog records join its transaction (exactly-once) or are sent once its
// outputs are acknowledged (at-least-once), and only then do they reach the store. In local mode
// (a file source, the test driver) a flow has partition 0 of each store, without changelog.
import type { Logger } from 'pino';
import type { StateMetrics } from '../component/metrics.ts';
import type { BatchState, ChangelogReader, ChangelogWriter, PartitionedState, QueryableState, StoreDeclaration, StoreReader, StoreScan, StoreView } from '../component/state.ts';
import type { ComponentMetrics } from '../component/metrics.ts';
import type { TopicSend } from '../component/types.ts';
import { SluiceError } from '../errors.ts';
import { changelogMessages, changelogProducer } from './changelog.ts';
import { openFlowStore } from './local.ts';
import { StateManager } from './manager.ts';
import { PartitionStore } from './partition.ts';
import type { RestoreProgress } from './restore.ts';
import type { BatchTransaction } from './transaction.ts';

export interface FlowStateOptions {
  readonly flow: string;
  /** Filled by the stages' declarations while the flow is built, read from the first batch on. */
  readonly stores: readonly StoreDeclaration[];
  /** Where the on-disk stores go: <state-dir>/<flow>/<store>/ (on Kafka, a directory per partition in it). */
  readonly stateDir: string;
  /** Local mode: the stores start empty each run (the source reads its input from the start, as a file source does). */
  readonly freshLocal?: boolean;
  readonly log: Logger;
  readonly metrics: ComponentMetrics;
}

/** Checkpoints after commits are written at most this often. */
const CHECKPOINT_EVERY_MS = 1_000;

const encoder = new TextEncoder();

export class FlowState implements PartitionedState, QueryableState {
  readonly #options: FlowStateOptions;
  #manager: StateManager | undefined;
  #writer: ChangelogWriter | undefined;
  /** Local mode: partition 0 of each store, opened with the first batch. */
  #local: PartitionStore[] | undefined;
  readonly #restoring = new Map<string, RestoreProgress>();
  #removeReadiness: (() => void) | undefined;
  #lastCheckpoint = 0;
  #checkpointing: Promise<void> | undefined;
  #metrics: StateMetrics[] | undefined;
  /** The flow replacing this one on a reload: it takes the open stores when this one closes. */
  #successor: FlowState | undefined;
  /** Where the input places a record by its key, once a Kafka source said. */
  #partitionOf: ((key: Uint8Array) => number) | undefined;
  /** Stores taken over from the flow this one replaced, until this one opens its own. */
  #adopted: PartitionStore[] = [];

  constructor(options: FlowStateOptions) {
    this.#options = options;
  }

  get stores(): readonly StoreDeclaration[] {
    return this.#options.stores;
  }

  get flow(): string {
    return this.#options.flow;
  }

  /**
   * The open partitions of `store` as delivered batches left them (a batch's writes reach the store
   * only with its delivery; one being restored is not listed): for queries. Local mode: partition
   * 0, once the first batch opened it.
   */
  partitions(store: string): readonly { readonly partition: number; readonly store: StoreReader }[] {
    const open = this.#manager ? this.#manager.ready() : (this.#local ?? []);
    return open.filter((s) => s.name === store).sort((a, b) => a.partition - b.partition);
  }

  /** Local mode (a file source, the test driver): partition 0 of each store, no partitioned source attached. */
  get local(): boolean {
    return this.#manager === undefined;
  }

  #storeMetrics(): StateMetrics[] {
    return (this.#metrics ??= this.#options.stores.map((s) => this.#options.metrics.state(this.#options.flow, s.name)));
  }

  partitionedBy(partitionOf: (key: Uint8Array) => number): void {
    this.#partitionOf = partitionOf;
  }

  keyPartition(key: string): number | undefined {
    return this.#partitionOf?.(encoder.encode(key));
  }

  changelogs(): readonly string[] {
    return this.#manager?.changelogs() ?? [];
  }

  attach(group: string, reader: ChangelogReader, writer: ChangelogWriter, stateDir?: string): void {
    const { flow, stores, log } = this.#options;
    const metrics = this.#storeMetrics();
    const slotOf = (name: string) => stores.findIndex((s) => s.name === name);
    this.#writer = writer;
    this.#manager = new StateManager({
      group,
      stores,
      stateDir: `${stateDir ?? this.#options.stateDir}/${flow}`,
      reader,
      log: log.child({ flow }),
      onProgress: (store, progress) => {
        const key = `${store}\u0000${progress.partition}`;
        const before = this.#restoring.get(key)?.restored ?? 0;
        this.#restoring.set(key, progress);
        metrics[slotOf(store)]!.restored.inc(progress.restored - before);
        this.#restoringGauges();
      },
      onRestored: (store, result) => {
        for (const key of this.#restoring.keys()) if (key.startsWith(`${store}\u0000`)) this.#restoring.delete(key);
        metrics[slotOf(store)]!.restoreDuration.record(result.seconds);
        this.#restoringGauges();
      },
    });
    this.#manager.adopt(this.#adopted);
    this.#adopted = [];
    this.#removeReadiness = this.#options.metrics.readiness.add(() => {
      if (this.#restoring.size === 0) return undefined;
      const parts = [...this.#restoring.values()].map((p) => `${p.changelog} partition ${p.partition}: ${p.restored} of ${p.toRestore} records`);
      return `flow ${flow}: restoring state (${parts.join(', ')})`;
    });
  }

  #restoringGauges(): void {
    const left = new Map<string, number>();
    for (const [key, p] of this.#restoring) left.set(key.split('\u0000')[0]!, (left.get(key.split('\u0000')[0]!) ?? 0) + Math.max(0, p.toRestore - p.restored));
    for (const [i, { name }] of this.#options.stores.entries()) this.#storeMetrics()[i]!.toRestore.set(left.get(name) ?? 0);
  }

  async assign(partitions: readonly number[]): Promise<void> {
    await this.#kafka().assign(partitions);
    this.#sizeGauges();
  }

  async refresh(partitions: readonly number[]): Promise<void> {
    await this.#kafka().refresh(partitions);
  }

  async revoke(partitions: readonly number[]): Promise<void> {
    await this.#kafka().revoke(partitions);
    this.#sizeGauges();
  }

  assigned(): readonly number[] {
    return [...new Set([...(this.#manager?.stores() ?? [])].map((s) => s.partition))];
  }

  async checkpoint(): Promise<void> {
    if (this.#checkpointing || performance.now() - this.#lastCheckpoint < CHECKPOINT_EVERY_MS) return;
    this.#lastCheckpoint = performance.now();
    this.#checkpointing = this.#kafka().checkpoint();
    try {
      await this.#checkpointing;
      this.#sizeGauges();
    } finally {
      this.#checkpointing = undefined;
    }
  }

  /**
   * A reload replaces this flow with `successor`, whose stores are declared alike: when this one
   * closes, its open stores are checkpointed and handed over open (no restore, no reopening).
   */
  handOverTo(successor: FlowState): void {
    this.#successor = successor;
  }

  /** Clean shutdown (or the end of a local run): every store checkpointed and closed (or handed over, see handOverTo). */
  async close(): Promise<void> {
    await this.#checkpointing?.catch(() => undefined);
    const successor = this.#successor;
    this.#successor = undefined;
    if (successor) {
      const stores = [...(this.#manager ? await this.#manager.detach() : []), ...(this.#local ?? [])];
      // a Kafka source attached its successor's state when it was built: its manager takes them
      if (successor.#manager) successor.#manager.adopt(stores);
      else successor.#adopted.push(...stores);
      this.#local = undefined;
      if (stores.length > 0) this.#options.log.info({ flow: this.#options.flow, stores: [...new Set(stores.map((s) => s.name))], partitions: [...new Set(stores.map((s) => s.partition))] }, 'reload: state stores kept open for the restarted flow');
    }
    if (this.#manager) await this.#manager.close();
    await Promise.all([...(this.#local ?? []), ...this.#adopted].map((s) => s.close()));
    this.#adopted = [];
    this.#local = undefined;
    this.#sizeGauges(); // no store open: the keys and bytes of this instance are gone
    this.#removeReadiness?.();
    this.#removeReadiness = undefined;
  }

  /** The state of a batch of `partition` (0 in local mode); `sourceOffset` names it in the changelog. */
  begin(partition: number, sourceOffset: bigint): FlowBatchState {
    const { stores, stateDir, flow, log, freshLocal } = this.#options;
    let partitionStores: PartitionStore[];
    if (this.#manager) {
      partitionStores = stores.map(({ name }) => {
        const store = this.#manager!.store(name, partition);
        if (!store) throw new SluiceError('SLC_IO', `flow ${flow}: a batch of partition ${partition} came while its state store ${name} is not open (not assigned to this instance)`);
        return store;
      });
    } else {
      if (!this.#local) {
        this.#local = stores.map(({ name, backend }) => this.#adopted.find((s) => s.name === name) ?? PartitionStore.local(name, openFlowStore(stateDir, flow, name, backend, log, freshLocal)));
        this.#adopted = [];
      }
      partitionStores = this.#local;
    }
    return new FlowBatchState(partitionStores, sourceOffset, this.#writer);
  }

  #kafka(): StateManager {
    if (!this.#manager) throw new Error('the flow state is not attached to a partitioned source');
    return this.#manager;
  }

  #sizeGauges(): void {
    const metrics = this.#storeMetrics();
    const open = this.#manager ? [...this.#manager.stores()] : (this.#local ?? []);
    for (const [i, { name }] of this.#options.stores.entries()) {
      let keys = 0;
      let bytes = 0;
      for (const store of open) {
        if (store.name !== name) continue;
        keys += store.store.count();
        bytes += store.store.bytes();
      }
      metrics[i]!.keys.set(keys);
      metrics[i]!.bytes.set(bytes);
    }
  }
}

/** A view of one store in one batch: the batch's transaction over the partition's store. */
class TransactionView implements StoreView {
  readonly partition: number;
  readonly #transaction: BatchTransaction;
  readonly #store: PartitionStore;
  readonly #sourceOffset: bigint;

  constructor(store: PartitionStore, transaction: BatchTransaction, sourceOffset: bigint) {
    this.partition = store.partition;
    this.#store = store;
    this.#transaction = transaction;
    this.#sourceOffset = sourceOffset;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.#transaction.get(key);
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.#transaction.put(key, value, this.#sourceOffset);
  }

  delete(key: Uint8Array): void {
    this.#transaction.delete(key, this.#sourceOffset);
  }

  entries(): Iterable<readonly [Uint8Array, Uint8Array]> {
    return this.#store.store.entries();
  }

  scan(): StoreScan {
    return this.#store.store.scan();
  }
}

export class FlowBatchState implements BatchState {
  readonly #stores: readonly PartitionStore[];
  readonly #transactions: BatchTransaction[];
  readonly #views: TransactionView[];
  readonly #writer: ChangelogWriter | undefined;

  constructor(stores: readonly PartitionStore[], sourceOffset: bigint, writer: ChangelogWriter | undefined) {
    this.#stores = stores;
    this.#writer = writer;
    this.#transactions = stores.map((s) => s.begin());
    this.#views = stores.map((s, i) => new TransactionView(s, this.#transactions[i]!, sourceOffset));
  }

  view(slot: number): StoreView {
    return this.#views[slot]!;
  }

  /** Exactly-once: the changelog records of the batch's writes, to send in its transaction. */
  changelogSends(): TopicSend[] {
    const sends: TopicSend[] = [];
    for (const [i, transaction] of this.#transactions.entries()) {
      const changes = transaction.changes();
      if (changes.length > 0) sends.push({ topic: this.#stores[i]!.changelog, compression: 'none', messages: changelogMessages(this.#stores[i]!.partition, changes) });
    }
    return sends;
  }

  /** Exactly-once: the batch's transaction committed: its writes reach the stores. */
  committed(): void {
    for (const transaction of this.#transactions) {
      transaction.sent();
      transaction.flush();
    }
  }

  /**
   * At-least-once, once the batch's outputs are acknowledged: its changelog records are sent
   * (on Kafka) and acknowledged, then its writes reach the stores. A crash before leaves the
   * records unremembered, to be processed again.
   */
  async remember(): Promise<void> {
    for (const [i, transaction] of this.#transactions.entries()) {
      const store = this.#stores[i]!;
      if (this.#writer && store.changelog !== '') await transaction.prepare(changelogProducer(this.#writer, store.changelog));
      else transaction.sent();
      transaction.flush();
    }
  }

  /** The batch was not delivered (aborted, failed): nothing of it is remembered. */
  abort(): void {
    for (const transaction of this.#transactions) if (transaction.status === 'STARTED' || transaction.status === 'PREPARED') transaction.fail();
  }
}
