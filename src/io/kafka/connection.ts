// The connection fields every Kafka component shares (a field group, as Benthos does), and the
// transport they build.
import type { Logger } from 'pino';
import { z } from 'zod';
import { kafkajsTransport } from './kafkajs.ts';
import { platformaticTransport } from './platformatic.ts';
import type { KafkaTransport } from './transport.ts';

export const connectionFields = {
  brokers: z
    .union([z.string(), z.array(z.string()).min(1)], { error: 'expected brokers: "host:port,host:port" or a list of "host:port"' })
    .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((b) => b.trim()).filter((b) => b !== ''))
    .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'a broker is host:port')).min(1))
    .describe('Bootstrap brokers: "host:port,host:port" or a list'),
  'client-id': z.string().default('sluice').describe('The client id the brokers see'),
  client: z
    .enum(['kafkajs', 'platformatic'])
    .default('kafkajs')
    .describe('The Kafka client library: kafkajs, or @platformatic/kafka (exactly-once fences zombies by group generation, KIP-447)'),
};

export function transportFor(options: { brokers: readonly string[]; 'client-id': string; client: 'kafkajs' | 'platformatic' }, logger: Logger): KafkaTransport {
  const clientOptions = { brokers: options.brokers, clientId: options['client-id'], logger };
  return options.client === 'platformatic' ? platformaticTransport(clientOptions) : kafkajsTransport(clientOptions);
}
