// Interactive queries of the flows' state stores, answered from the delivered state of the
// partitions this instance owns (a batch in flight is not seen: its writes reach a store with its
// delivery). The ops endpoint serves them (ops-server.ts), `sluice state` prints them from the files.
//   /state/<flow>/<store>              the store's keys and bytes per owned partition
//   /state/<flow>/<store>/<key>        the key's value and its partition
//   /state/<flow>/<store>/<key>?from=&to=   a windowed store: the key's windows starting in [from, to)
// On Kafka, a key of a store keyed by the records' keys (aggregate) whose partition (Kafka's default
// partitioner over the input's partitions) another instance owns is a 404 naming that partition.
// A key is read as its stage wrote it (the store's codec): `evt-1` is the string, `42` the number,
// `"42"` the string. Bodies name flows, stores, partitions, keys and values: never a broker or URL.
import type { QueryableState, StateQueries, StoreCodec, StoreReader } from '../component/state.ts';

type OpenPartitions = readonly { readonly partition: number; readonly store: StoreReader }[];

export interface StateAnswer {
  readonly status: 200 | 400 | 404;
  readonly body: Readonly<Record<string, unknown>>;
}

/** The query of a `/state/...` path (without `/state/`) and its query string. */
export interface StateQuery {
  readonly flow: string;
  readonly store: string | undefined;
  readonly key: string | undefined;
  /** A windowed query: epoch ms, or an RFC 3339 time. */
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

const notFound = (error: string, extra: Record<string, unknown> = {}): StateAnswer => ({ status: 404, body: { error, ...extra } });
const badRequest = (error: string): StateAnswer => ({ status: 400, body: { error } });
const list = (names: readonly string[]) => (names.length === 0 ? 'none' : names.join(', '));

/** Answers one query over the flows' open partitions. */
export function answerStateQuery(queries: StateQueries, query: StateQuery): StateAnswer {
  const flows = queries.flows().filter((f) => f.stores.length > 0);
  const flow = flows.find((f) => f.flow === query.flow);
  if (!flow) return notFound(`no flow "${query.flow}" with state stores here: flows with stores: ${list(flows.map((f) => f.flow))}`);
  const names = flow.stores.map((s) => s.name);
  if (query.store === undefined) return { status: 200, body: { flow: flow.flow, stores: names } };
  const declaration = flow.stores.find((s) => s.name === query.store);
  if (!declaration) return notFound(`flow ${flow.flow} has no store "${query.store}": its stores: ${list(names)}`);
  const partitions = flow.partitions(declaration.name);
  if (query.key === undefined) return { status: 200, body: storeSize(flow.flow, declaration.name, declaration.backend, partitions) };
  const { codec } = declaration;
  if (!codec) return badRequest(`store ${declaration.name} of flow ${flow.flow} declares no codec: its keys cannot be read`);
  const home = declaration.keyedByRecord ? flow.keyPartition?.(query.key) : undefined;
  if (home !== undefined && !partitions.some((p) => p.partition === home)) return elsewhere(flow.flow, declaration.name, query.key, home, partitions);
  if (query.from !== undefined || query.to !== undefined) return windowsOf(flow, declaration.name, codec, partitions, query);
  return keyValue(flow.flow, declaration.name, codec, partitions, query.key);
}

/**
 * A key whose partition (where the input places a record keyed by it) this instance does not own:
 * the instance that owns it answers, as Kafka Streams' key query metadata names its host.
 */
function elsewhere(flow: string, store: string, key: string, partition: number, partitions: OpenPartitions): StateAnswer {
  const searched = partitions.map((p) => p.partition);
  const owned = searched.length === 0 ? 'none' : searched.join(', ');
  return notFound(`key ${JSON.stringify(key)} of store ${store} belongs to partition ${partition} (where the input puts a record with that key), which this instance does not own (it owns ${owned}): ask the instance that owns partition ${partition}`, { flow, store, partition, searched });
}

export function storeSize(flow: string, store: string, backend: string, partitions: OpenPartitions): Record<string, unknown> {
  return { flow, store, backend, partitions: partitions.map((p) => ({ partition: p.partition, keys: p.store.count(), bytes: p.store.bytes() })) };
}

/** A key's value, searched in every owned partition (a stage's key need not be the record key the input was partitioned by). */
export function keyValue(flow: string, store: string, codec: StoreCodec, partitions: OpenPartitions, key: string): StateAnswer {
  const bytes = codec.key(key);
  for (const { partition, store: reader } of partitions) {
    const value = reader.get(bytes);
    if (value !== undefined) return { status: 200, body: { flow, store, partition, key, value: codec.value(value) } };
  }
  const searched = partitions.map((p) => p.partition);
  return notFound(
    searched.length === 0
      ? `key ${JSON.stringify(key)} of store ${store}: this instance owns no partition of flow ${flow} (none assigned yet, or all owned by other instances)`
      : `key ${JSON.stringify(key)} is in none of the partitions of store ${store} this instance owns (searched ${searched.join(', ')}): another instance may own its partition`,
    { flow, store, searched },
  );
}

function windowsOf(flow: QueryableState, store: string, codec: StoreCodec, partitions: OpenPartitions, query: StateQuery): StateAnswer {
  if (!codec.windows) return badRequest(`store ${store} of flow ${flow.flow} is not windowed: ask for a key without from and to`);
  const from = query.from === undefined ? 0 : epochMs(query.from);
  const to = query.to === undefined ? Number.MAX_SAFE_INTEGER : epochMs(query.to);
  if (from === undefined || to === undefined) return badRequest('from and to are epoch milliseconds or RFC 3339 times');
  const found = partitions.flatMap((p) => codec.windows!(p.store, query.key!, from, to).map((window) => ({ partition: p.partition, window })));
  return { status: 200, body: { flow: flow.flow, store, key: query.key, from, to, windows: found } };
}

function epochMs(text: string): number | undefined {
  const ms = /^[0-9]+$/.test(text) ? Number(text) : Date.parse(text);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The query a `/state/...` request names, or undefined when the path is not one. */
export function parseStatePath(path: string, search: URLSearchParams): StateQuery | undefined {
  const parts = path.split('/').slice(2);
  if (parts.length < 1 || parts.length > 3 || parts.some((p) => p === '')) return undefined;
  let decoded: string[];
  try {
    decoded = parts.map((p) => decodeURIComponent(p));
  } catch {
    return undefined;
  }
  return { flow: decoded[0]!, store: decoded[1], key: decoded[2], from: search.get('from') ?? undefined, to: search.get('to') ?? undefined };
}
