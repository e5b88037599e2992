// Settings shared by the configuration and the components: value types, the field group every
// Kafka component shares (as Benthos shares field groups), the local services of local mode.
import { z } from 'zod';

/**
 * An integer key that may be set from the environment (`port = ${?PORT}`): HOCON substitutes
 * environment variables as strings, so a string of digits is read as the number it spells.
 */
export const integerFromEnv = (schema: z.ZodNumber) => z.preprocess((v) => (typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v), schema);

export const localServiceConfig = z.strictObject({
  port: integerFromEnv(z.number().int().min(0).max(65535)).default(0).describe('Listens on 127.0.0.1:port (0: a free port, found by the services that name it)'),
  'delay-ms': integerFromEnv(z.number().int().min(0)).default(0).describe('Latency added to every answer'),
  routes: z
    .record(z.string().regex(/^\/.*\{[A-Za-z0-9_]+\}/, 'a route is a path with one {placeholder}'), z.strictObject({ file: z.string(), key: z.string() }))
    .describe('Path template -> lookup file and the row property the placeholder matches'),
});

export type LocalServiceConfig = z.output<typeof localServiceConfig>;

const tls = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Connect over TLS (false keeps the block but connects in plaintext)'),
    'ca-file': z.string().min(1).optional().describe('PEM file of the CAs to trust (default: the system CAs); relative to the configuration file'),
    'cert-file': z.string().min(1).optional().describe('PEM client certificate, for brokers that require mutual TLS (with key-file)'),
    'key-file': z.string().min(1).optional().describe('PEM private key of cert-file'),
    'reject-unauthorized': z.boolean().default(true).describe("Refuse a broker whose certificate does not verify: false only for a test broker"),
  })
  .refine((t) => (t['cert-file'] === undefined) === (t['key-file'] === undefined), { error: 'give both cert-file and key-file, or neither' });

const sasl = z.strictObject({
  mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).describe('plain (only over TLS), scram-sha-256 or scram-sha-512'),
  username: z.string().min(1).describe('The SASL user'),
  password: z
    .string({ error: 'expected the SASL password, from the environment: password = ${KAFKA_SASL_PASSWORD}' })
    .min(1)
    .describe('Secret: from the environment (password = ${KAFKA_SASL_PASSWORD}); `sluice check` warns when it is written in a file'),
});

export const connectionFields = {
  brokers: z
    .union([z.string(), z.array(z.string()).min(1)], { error: 'expected brokers: "host:port,host:port" or a list of "host:port"' })
    .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((b) => b.trim()).filter((b) => b !== ''))
    .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'a broker is host:port')).min(1))
    .describe('Bootstrap brokers: "host:port,host:port" or a list'),
  'client-id': z.string().default('sluice').describe('The client id the brokers see'),
  client: z
    .enum(['kafkajs', 'platformatic'])
    .default('platformatic')
    .describe('The Kafka client library: @platformatic/kafka (exactly-once fences zombies by group generation, KIP-447), or kafkajs'),
  tls: tls.optional().describe('TLS to the brokers (absent: plaintext): { enabled = true, ca-file, cert-file, key-file, reject-unauthorized = true }'),
  sasl: sasl
    .optional()
    .describe('SASL authentication (absent: none): { mechanism = plain | scram-sha-256 | scram-sha-512, username, password = ${KAFKA_SASL_PASSWORD} }'),
};

export interface ConnectionConfig {
  brokers: readonly string[];
  'client-id': string;
  client?: 'kafkajs' | 'platformatic';
  tls?: z.output<typeof tls>;
  sasl?: z.output<typeof sasl>;
}
