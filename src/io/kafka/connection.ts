// The connection fields every Kafka component shares (a field group, as Benthos does), and the
// transport they build.
import type { Logger } from 'pino';
import { z } from 'zod';
import { kafkajsTransport } from './kafkajs.ts';
import type { KafkaTransport } from './transport.ts';

export const connectionFields = {
  brokers: z
    .union([z.string(), z.array(z.string()).min(1)], { error: 'expected brokers: "host:port,host:port" or a list of "host:port"' })
    .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((b) => b.trim()).filter((b) => b !== ''))
    .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'a broker is host:port')).min(1))
    .describe('Bootstrap brokers: "host:port,host:port" or a list'),
  'client-id': z.string().default('sluice').describe('The client id the brokers see'),
};

export function transportFor(options: { brokers: readonly string[]; 'client-id': string }, logger: Logger): KafkaTransport {
  return kafkajsTransport({ brokers: options.brokers, clientId: options['client-id'], logger });
}
