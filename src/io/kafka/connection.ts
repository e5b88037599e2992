// The transport a Kafka component's connection fields (component/settings.ts) build.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { ConnectionConfig } from '../../component/settings.ts';
import { type ConfigProblem, SluiceError } from '../../errors.ts';
import { kafkajsTransport } from './kafkajs.ts';
import { platformaticTransport } from './platformatic/index.ts';
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

/** `baseDir` resolves the relative PEM files of the tls block. */
export function transportFor(config: ConnectionConfig, context: { logger: Logger; baseDir: string }): KafkaTransport {
  const options = { ...connectionOptions(config, context.baseDir), logger: context.logger };
  return config.client === 'platformatic' ? platformaticTransport(options) : kafkajsTransport(options);
}
