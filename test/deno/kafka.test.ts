// The content flow end to end under Deno 2 (the binary of the npm package `deno`, running the
// TypeScript sources: `deno run -A src/cli.ts run`) on a real broker (the one KAFKA_BROKERS names;
// scripts/test.mjs starts one): config/qal.conf with this run's own topics and group, 1-partition
// topics, samples/content.ndjson produced keyed by id, read back with kcat (librdkafka).
//   - the outputs and dead letters reach the counts of samples/content.expected.ndjson; SIGTERM:
//     exit 0 with the summary;
//   - the output records equal, in order and byte for byte, what local mode writes under Node, each
//     keyed by its id;
//   - each dead letter carries the reason (and path) the expected outcome of the input at its
//     sluice.source.offset names, and the original key and bytes; one per failing input;
//   - the input offsets are committed: a rerun on the same group reads nothing before a marker
//     produced once it is assigned.
import { existsSync } from 'node:fs';
import { endToEndSuite } from '../io/kafka/end-to-end.ts';
import { DENO, DenoProcessor, requireEnvironment } from '../io/kafka/harness.ts';

endToEndSuite({
  title: 'deno: the content flow on Kafka under Deno 2 (qal.conf, deno run src/cli.ts, kcat)',
  runtime: 'under Deno',
  prefix: 'd',
  flows: [{ flow: 'content', keyField: 'id', compression: 'none' }],
  requireEnvironment: () => {
    requireEnvironment();
    if (!existsSync(DENO)) throw new Error(`deno not found at ${DENO} (npm ci installs it)`);
  },
  start: (config, logFile) => new DenoProcessor(config, logFile),
});
