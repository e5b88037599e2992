// The @platformatic/kafka client options every adapter shares (connection, TLS, SASL, the retry
// policy), the zstd codec the library lacks on Node 20, and the connection check made once
// before any client connects.
import { Buffer } from 'node:buffer';
import { compress as zstdCompress } from '@bokuweb/zstd-wasm';
import { Admin as PlatformaticAdmin, type CompressionAlgorithmSpecification, compressionsAlgorithms, type GenericError, type RetryDelayGetter } from '@platformatic/kafka';
import type { Logger } from 'pino';
import { SluiceError } from '../../../errors.ts';
import { loadZstd, zstdDecompress } from '../codecs.ts';
import { checkBrokerCertificates } from '../tls-check.ts';
import type { ConnectionOptions } from '../transport.ts';

export interface ClientOptions extends ConnectionOptions {
  readonly logger: Logger;
}

/** What the adapters share: the connection, and what must hold before a client first connects. */
export interface AdapterOptions extends ClientOptions {
  /** The zstd codec registered and the connection checked (once per transport). */
  readonly ready: () => Promise<void>;
}

const SASL_MECHANISMS = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

export const hasError = (error: unknown, ...ids: string[]) => ids.some((id) => (error as GenericError).findBy?.('apiId', id));
// a broker restart or a short outage is ridden out (about 90 s of retries), not a failure
const RETRIES = 20;
/**
 * Backoff, doubling. The broker refuses the next transaction's first write while it still writes
 * the last one's commit markers (CONCURRENT_TRANSACTIONS, a few ms): that retry starts at 2 ms (at
 * 10 ms, transactions took twice as long; at 200 ms, exactly-once p99 at 10,000 msg/s was 0.8 s).
 */
export const retryDelay: RetryDelayGetter = (_client, _operation, attempt, _retries, error) =>
  Math.min((hasError(error, 'CONCURRENT_TRANSACTIONS') ? 2 : 200) * 2 ** (attempt - 1), 5000);
export const base = (options: ClientOptions, clientId = options.clientId) => ({
  clientId,
  bootstrapBrokers: [...options.brokers],
  retries: RETRIES,
  retryDelay,
  // the library's 5 s request timeout fails produce requests on a busy machine; kafkajs waits 30 s
  timeout: 30_000,
  autocreateTopics: false,
  ...(options.tls ? { tls: { ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key, rejectUnauthorized: options.tls.rejectUnauthorized } } : {}),
  ...(options.sasl ? { sasl: { mechanism: SASL_MECHANISMS[options.sasl.mechanism], username: options.sasl.username, password: options.sasl.password } } : {}),
});

let zstdReady: Promise<void> | undefined;
/** Node 20 has no zstd in zlib (the library's codec): the wasm build of zstd stands in, once per process. */
export function registerZstd(): Promise<void> {
  zstdReady ??= (async () => {
    const zstd: CompressionAlgorithmSpecification = compressionsAlgorithms.zstd;
    if (zstd.available) return;
    await loadZstd();
    zstd.compressSync = (data) => Buffer.from(zstdCompress(Buffer.isBuffer(data) ? data : data.buffer, 3));
    zstd.decompressSync = (data) => zstdDecompress(Buffer.isBuffer(data) ? data : data.buffer);
    zstd.available = true;
  })();
  return zstdReady;
}

/**
 * An error of the library in one line: its message and the protocol errors under it (a retried
 * operation's errors once each), e.g. `… Fetch(v17): TOPIC_AUTHORIZATION_FAILED (Topic authorization failed.)`.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const found = new Set<string>();
  const visit = (e: unknown, depth: number) => {
    if (!(e instanceof Error) || depth > 8) return;
    const inner = (e as { errors?: unknown[] }).errors ?? [];
    const apiId = (e as { apiId?: string }).apiId;
    if (apiId !== undefined) found.add(`${apiId} (${e.message})`);
    else if (e !== error && inner.length === 0 && e.cause === undefined) found.add(e.message);
    for (const next of [...inner, e.cause]) visit(next, depth + 1);
  };
  visit(error, 0);
  return found.size === 0 ? error.message : `${error.message}: ${[...found].join('; ')}`;
}

/** The first error in a chain (nested causes and aggregated errors) that `match` accepts. */
function findError(error: unknown, match: (error: Error & { code?: string }) => boolean, depth = 0): Error | undefined {
  if (!(error instanceof Error) || depth > 8) return undefined;
  if (match(error)) return error;
  for (const inner of [error.cause, ...((error as { errors?: unknown[] }).errors ?? [])]) {
    const found = findError(inner, match, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * A broker certificate that does not verify and a refused SASL login are mistakes no retry fixes,
 * but the library retries them like any connection failure (for a minute and more): the
 * certificates are checked and one metadata request is made without retries before any client
 * connects, so that either fails at once, with a clear message.
 */
export async function checkConnection(options: ClientOptions): Promise<void> {
  if (options.tls) await checkBrokerCertificates(options.brokers, options.tls);
  if (!options.sasl) return;
  const probe = new PlatformaticAdmin({ ...base(options, `${options.clientId}-login`), retries: 0 });
  try {
    await probe.listTopics();
  } catch (error) {
    const refused = findError(error, (e) => e.code === 'PLT_KFK_AUTHENTICATION' || hasError(e, 'SASL_AUTHENTICATION_FAILED'));
    if (refused) {
      const { mechanism, username } = options.sasl;
      const why = findError(refused.cause, () => true)?.message ?? refused.message;
      throw new SluiceError('SLC_IO', `Kafka ${options.brokers.join(',')}: SASL ${mechanism} login as "${username}" refused: ${why}`, { cause: error });
    }
    // anything else (a broker not up yet): the clients' own retries deal with it
  } finally {
    await probe.close();
  }
}
