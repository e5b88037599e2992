// The connection fields every Kafka component shares (a field group, as Benthos does), and the
// transport they build.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { type ConfigProblem, SluiceError } from '../../errors.ts';
import { kafkajsTransport } from './kafkajs.ts';
import { platformaticTransport } from './platformatic.ts';
import type { ConnectionOptions, KafkaTransport, TlsOptions } from './transport.ts';

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

/** The PEM files of the tls block, read now: a missing file is a configuration error at `sluice check`. */
function tlsOptions(config: NonNullable<ConnectionConfig['tls']>, baseDir: string): TlsOptions {
  const problems: ConfigProblem[] = [];
  const read = (key: 'ca-file' | 'cert-file' | 'key-file'): string | undefined => {
    const file = config[key];
    if (file === undefined) return undefined;
    const path = resolve(baseDir, file);
    try {
      return readFileSync(path, 'utf8');
    } catch (cause) {
      problems.push({ path: `tls.${key}`, message: `cannot read ${path}: ${(cause as Error).message}` });
      return undefined;
    }
  };
  const options = { ca: read('ca-file'), cert: read('cert-file'), key: read('key-file'), rejectUnauthorized: config['reject-unauthorized'] };
  if (problems.length > 0) throw new SluiceError('SLC_CONFIG', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { problems });
  return options;
}

export function connectionOptions(config: ConnectionConfig, baseDir: string): ConnectionOptions {
  return {
    brokers: config.brokers,
    clientId: config['client-id'],
    ...(config.tls?.enabled ? { tls: tlsOptions(config.tls, baseDir) } : {}),
    ...(config.sasl ? { sasl: config.sasl } : {}),
  };
}

/** `baseDir` resolves the relative PEM files of the tls block. */
export function transportFor(config: ConnectionConfig, context: { logger: Logger; baseDir: string }): KafkaTransport {
  const options = { ...connectionOptions(config, context.baseDir), logger: context.logger };
  return config.client === 'platformatic' ? platformaticTransport(options) : kafkajsTransport(options);
}
