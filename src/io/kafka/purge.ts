// A repartition topic is read by one consumer group only: once that group has committed past a
// record, nothing will read it again. So its records are deleted up to the committed offsets
// every interval, as Kafka Streams purges its repartition topics (repartition.purge.interval.ms):
// the topic holds what is in flight, not everything the flow saw until the retention deletes it.
import type { Admin } from './transport.ts';

export class CommittedPurge {
  readonly #topic: string;
  readonly #admin: () => Admin;
  readonly #onFailure: (error: Error) => void;
  /** Per partition, the committed offset not purged yet. */
  readonly #due = new Map<number, bigint>();
  readonly #timer: ReturnType<typeof setInterval>;
  #purging: Promise<void> = Promise.resolve();

  constructor(topic: string, intervalMs: number, admin: () => Admin, onFailure: (error: Error) => void) {
    this.#topic = topic;
    this.#admin = admin;
    this.#onFailure = onFailure;
    this.#timer = setInterval(() => void (this.#purging = this.#purging.then(() => this.#purge())), intervalMs);
    this.#timer.unref();
  }

  /** The group committed `next` for `partition`: the records before it may go. */
  committed(partition: number, next: bigint): void {
    if ((this.#due.get(partition) ?? -1n) < next) this.#due.set(partition, next);
  }

  async #purge(): Promise<void> {
    if (this.#due.size === 0) return;
    const offsets = [...this.#due].map(([partition, offset]) => ({ partition, offset }));
    this.#due.clear();
    try {
      await this.#admin().deleteRecordsBefore(this.#topic, offsets);
    } catch (error) {
      // tried again at the next interval, unless a later commit superseded it
      for (const { partition, offset } of offsets) this.committed(partition, offset);
      this.#onFailure(error as Error);
    }
  }

  /** No purge after this one; waits for one under way. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#purging;
  }
}
