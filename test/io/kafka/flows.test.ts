// Both flows end to end on a real broker (the one KAFKA_BROKERS names; scripts/test.mjs starts
// one): config/qal.conf with this run's own topics and groups, 1-partition input and output
// topics, the built CLI as a child process (`sluice run`), read back with kcat (librdkafka).
//   - samples/content.ndjson (keyed by id) and samples/campaign.ndjson (keyed by userId, zstd: two
//     of its lines are ~1 MB) are produced with `sluice produce`;
//   - the processor runs until the outputs and dead-letter topics hold the expected counts
//     (samples/<flow>.expected.ndjson), then SIGTERM: exit 0 and the summary;
//   - the output records equal, in order and byte for byte, what the same flow writes in local
//     mode; each is keyed by the configured field (content: id, campaign: userId);
//   - each dead letter carries the reason (and path) the expected outcome of the input at its
//     sluice.source.offset names, and the original key and bytes; one per failing input;
//   - the input offsets are committed: a rerun on the same group reads nothing.
// The throughput the processor reached is printed (messages / time from partition assignment to
// the last output on the broker).
import { endToEndSuite } from './end-to-end.ts';
import { Processor, requireEnvironment } from './harness.ts';

endToEndSuite({
  title: 'kafka flows: content and campaign end to end (qal.conf, sluice run, kcat)',
  runtime: '',
  prefix: 'f',
  flows: [
    { flow: 'content', keyField: 'id', compression: 'none' },
    // zstd: two of the campaign lines are ~1 MB
    { flow: 'campaign', keyField: 'userId', compression: 'zstd' },
  ],
  requireEnvironment,
  start: (config, logFile) => new Processor(config, logFile),
});
