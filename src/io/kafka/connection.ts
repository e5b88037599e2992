// The transport a Kafka component's connection fields (component/settings.ts) build.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { ConnectionConfig } from '../../component/settings.ts';
import { type ConfigProblem, SluiceError } from '../../errors.ts';
import type { ConnectionOptions, KafkaTransport, TlsOptions } from './transport.ts';

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

type Client = NonNullable<ConnectionConfig['client']>;
type TransportFactory = (options: ConnectionOptions & { logger: Logger }) => KafkaTransport;

const loadedClients = new Map<Client, TransportFactory>();

/**
 * Imports a client library and its adapter, once. Importing @platformatic/kafka alone takes a few
 * hundred ms: a command or flow that uses no Kafka must not wait for it.
 */
export async function loadClient(client: Client = 'kafkajs'): Promise<void> {
  if (loadedClients.has(client)) return;
  const factory = client === 'platformatic' ? (await import('./platformatic/index.ts')).platformaticTransport : (await import('./kafkajs.ts')).kafkajsTransport;
  loadedClients.set(client, factory);
}

/** `baseDir` resolves the relative PEM files of the tls block. The client must have been loaded (`loadClient`). */
export function transportFor(config: ConnectionConfig, context: { logger: Logger; baseDir: string }): KafkaTransport {
  const client = config.client ?? 'kafkajs';
  const factory = loadedClients.get(client);
  if (!factory) throw new Error(`the ${client} Kafka client is used before loadClient('${client}') imported it`);
  return factory({ ...connectionOptions(config, context.baseDir), logger: context.logger });
}
