// A broker certificate that does not verify is a setup mistake no retry fixes, but Kafka clients
// retry it like any connection failure (kafkajs for about 90 s). One TLS handshake per broker
// before the client connects turns it into a clear error at once. Client-neutral: every adapter
// calls it.
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import { SluiceError } from '../../errors.ts';
import type { TlsOptions } from './transport.ts';

const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Verification failures (OpenSSL's codes as Node reports them, and Node's host name check). */
function isCertificateError(error: NodeJS.ErrnoException): boolean {
  const code = error.code ?? '';
  return /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME_INVALID/.test(code);
}

function handshake(broker: string, tls: TlsOptions): Promise<void> {
  const at = broker.lastIndexOf(':');
  const host = broker.slice(0, at);
  const port = Number(broker.slice(at + 1));
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: tls.rejectUnauthorized,
      servername: isIP(host) === 0 ? host : undefined,
      timeout: HANDSHAKE_TIMEOUT_MS,
    });
    const done = (error?: NodeJS.ErrnoException) => {
      socket.destroy();
      if (error && isCertificateError(error)) {
        const hint = tls.ca === undefined ? 'give the CA that signed it in tls.ca-file' : 'tls.ca-file is not the CA that signed it';
        reject(new SluiceError('SLC_IO', `TLS to ${broker}: the broker's certificate is not trusted (${error.code}: ${error.message}): ${hint}`, { cause: error }));
      } else resolve(); // unreachable or not TLS: the client's retries and errors say so
    };
    socket.once('secureConnect', () => done());
    socket.once('error', done);
    socket.once('timeout', () => done());
  });
}

/** Rejects with a clear SLC_IO error when a broker's certificate does not verify. */
export async function checkBrokerCertificates(brokers: readonly string[], tls: TlsOptions): Promise<void> {
  await Promise.all(brokers.map((broker) => handshake(broker, tls)));
}
