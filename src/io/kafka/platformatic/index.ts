// The @platformatic/kafka adapter of the Kafka transport port, split as the library splits its
// clients: options.ts (connection, retry policy, zstd, the connection check), consumer.ts (group
// membership, fetch loop, read-committed filter), producer.ts (records, partitioner),
// transactional.ts (exactly-once, KIP-447), admin.ts, partition-reader.ts (changelog restore).
import type { KafkaTransport } from '../transport.ts';
import { PlatformaticAdminAdapter } from './admin.ts';
import { PlatformaticConsumerAdapter } from './consumer.ts';
import { type AdapterOptions, checkConnection, type ClientOptions, registerZstd } from './options.ts';
import { PlatformaticPartitionReader } from './partition-reader.ts';
import { PlatformaticProducerAdapter } from './producer.ts';
import { PlatformaticTransactionalAdapter } from './transactional.ts';

export function platformaticTransport(options: ClientOptions): KafkaTransport {
  let checked: Promise<unknown> | undefined;
  const adapterOptions: AdapterOptions = { ...options, ready: async () => void (await (checked ??= Promise.all([registerZstd(), checkConnection(options)]))) };
  return {
    fencesByGroup: true,
    staticMembership: true,
    consumer: (consumerOptions) => new PlatformaticConsumerAdapter(adapterOptions, consumerOptions),
    producer: (producerOptions) => new PlatformaticProducerAdapter(adapterOptions, producerOptions),
    transactionalProducer: (transactionalId, producerOptions) => new PlatformaticTransactionalAdapter(adapterOptions, transactionalId, producerOptions),
    admin: () => new PlatformaticAdminAdapter(adapterOptions),
    partitionReader: () => new PlatformaticPartitionReader(adapterOptions),
  };
}
