// The one table of every source, stage, sink and table kind. Adding a component means adding its
// module and one line here; `sluice check`, defaults and docs all read this table.
import { kafkaSink } from '../io/kafka/kafka-sink.ts';
import { kafkaSource } from '../io/kafka/kafka-source.ts';
import { kafkaTable } from '../io/kafka/kafka-table.ts';
import { fileSink } from '../io/local/file-sink.ts';
import { fileSource } from '../io/local/file-source.ts';
import { fileTable } from '../io/local/file-table.ts';
import { inlineTable } from '../io/local/inline-table.ts';
import { aggregateStage } from '../stages/aggregate.ts';
import { dedupeStage } from '../stages/dedupe.ts';
import { enrichFileStage } from '../stages/enrich-file.ts';
import { enrichHttpStage } from '../stages/enrich-http.ts';
import { filterStage } from '../stages/filter.ts';
import { keyByStage } from '../stages/key-by.ts';
import { latestStage } from '../stages/latest.ts';
import { lookupStage } from '../stages/lookup.ts';
import { mapStage } from '../stages/map.ts';
import type { SinkSpec, SourceSpec, StageSpec, TableSpec } from '../component/spec.ts';

export const sources: Readonly<Record<string, SourceSpec>> = {
  file: fileSource,
  kafka: kafkaSource,
};

export const stages: Readonly<Record<string, StageSpec>> = {
  filter: filterStage,
  map: mapStage,
  'enrich-file': enrichFileStage,
  'enrich-http': enrichHttpStage,
  dedupe: dedupeStage,
  latest: latestStage,
  lookup: lookupStage,
  'key-by': keyByStage,
  aggregate: aggregateStage,
};

export const sinks: Readonly<Record<string, SinkSpec>> = {
  file: fileSink,
  kafka: kafkaSink,
};

export const tables: Readonly<Record<string, TableSpec>> = {
  kafka: kafkaTable,
  file: fileTable,
  inline: inlineTable,
};
