// enrich-http: calls an HTTP service for each record (URL and body templates filled from its
// fields) and merges chosen response fields into the output record. Resilience (timeout,
// retries, circuit breaker, concurrency) belongs to the service, shared by the stages naming it.
// With a `batch` block, the distinct keys of the records that reach the stage together (a flow
// hands a batch's records over at once) go to a bulk endpoint in requests of up to max-keys,
// and each record takes its key's row from the answer (a key without a row is not found).
import { setImmediate } from 'node:timers';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { type ConfigProblem, SluiceError } from '../errors.ts';
import type { StageSpec } from '../component/spec.ts';
import { fieldValue } from '../component/fields.ts';
import { schemaAt } from '../component/rules.ts';
import { type HttpFailure, httpFailure, isHttpFailure, type Service } from '../component/service.ts';
import { CONTINUE, type FlowRecord } from '../component/types.ts';
import { applyMerge, failurePolicy, type MergeTarget, mergeDefaults, mergeTargets, onFailure, scalar, valueAt } from './merge.ts';

const config = z.strictObject({
  service: z.string().describe('A key of the top-level `services` block: its timeout, retries, breaker and concurrency apply'),
  method: z.enum(['GET', 'POST', 'PUT']).default('GET'),
  url: z
    .string()
    .regex(/^(https?:\/\/|\/)/, 'an http(s):// URL, or a path (/…) relative to the service\'s base-url')
    .describe('{field} placeholders are filled from the message, URI-encoded'),
  headers: z.record(z.string(), z.string()).default({}).describe('Request headers; secrets come from the environment (${?VAR} in HOCON)'),
  body: z.string().optional().describe('Request body; {field} placeholders become the field as JSON'),
  merge: z.record(z.string(), z.string()).describe('Output record field -> dotted path in the JSON response'),
  'on-failure': failurePolicy.default('dlq').describe('When the call finally fails: dlq, drop, skip-stage or default'),
  'on-not-found': failurePolicy.optional().describe('For a 404 (default: as on-failure)'),
  default: z.record(z.string(), scalar).optional().describe('Values merged for `default`'),
  cache: z
    .strictObject({
      'ttl-ms': z.number().int().min(1).default(60_000),
      'max-entries': z.number().int().min(1).default(10_000),
    })
    .optional()
    .describe('Answers kept per request (method, URL, body), or per key with `batch`'),
  batch: z
    .strictObject({
      'max-keys': z.number().int().min(1).max(10_000).default(64).describe('Distinct keys per request'),
      url: z
        .string()
        .regex(/^(https?:\/\/|\/)/, 'an http(s):// URL, or a path (/…) relative to the service\'s base-url')
        .describe('The bulk endpoint, called with POST'),
      body: z.string().default('{keys}').describe('The request body; {keys} becomes the JSON array of the keys'),
      key: z.string().optional().describe('The field whose value is a record\'s key (default: the only placeholder of `url`)'),
      rows: z.string().optional().describe('Dotted path of the array of rows in the answer (default: the answer is the array)'),
      'response-key': z.string().describe('Dotted path, in a row, of the key it answers'),
    })
    .optional()
    .describe('Look up many records\' keys in one request where the service has batch-lookups (e.g. the local lookup server\'s POST /documents/_batch); else one call per record'),
});

const PLACEHOLDER = /\{([^{}"]+)\}/g;

type Part = string | { slot: number; json: boolean };

/** A template as literal parts and field slots, resolved once when the flow is built. */
function compileTemplate(template: string, json: boolean, context: Parameters<StageSpec['create']>[1], where: string, problems: ConfigProblem[]): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    parts.push(template.slice(last, match.index));
    const field = match[1]!;
    if (schemaAt(context.rules, field) === undefined) problems.push({ path: where, message: `field "${field}" is not defined by the flow's rules` });
    parts.push({ slot: context.fields.slot(field), json });
    last = match.index + match[0].length;
  }
  parts.push(template.slice(last));
  return parts;
}

function fill(parts: readonly Part[], record: FlowRecord): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') out += part;
    else {
      const value = fieldValue(record, part.slot);
      out += part.json ? JSON.stringify(value ?? null) : encodeURIComponent(value === undefined || value === null ? '' : String(value));
    }
  }
  return out;
}

/** The converted response values in target order, or the name of the first that does not fit. */
function extract(body: unknown, targets: readonly MergeTarget[]): unknown[] | string {
  const values: unknown[] = [];
  for (const t of targets) {
    const raw = valueAt(body, t.path);
    const value = raw === undefined || raw === null ? undefined : t.convert(raw);
    if (value === undefined && raw !== undefined && raw !== null) return t.source;
    values.push(value);
  }
  return values;
}

/** What a call came to: the values to merge, not found, or a failure. */
type Answer = unknown[] | 'not-found' | HttpFailure;

type BatchOptions = NonNullable<z.output<typeof config>['batch']>;

/**
 * Looks keys up many at a time: the keys asked for while the flow hands records over (until the
 * next turn of the event loop, or max-keys) go out in one request; a key asked for again while
 * its request is under way shares it.
 */
function batchLookup(service: Service, batch: BatchOptions, targets: readonly MergeTarget[], headers: Record<string, string>): (key: string, due: number) => Promise<Answer> {
  const url = service.resolve(batch.url);
  const [before, after] = batch.body.split('{keys}') as [string, string];
  const bulkHeaders = { ...headers, 'content-type': 'application/json' };
  /** Keys asked for and not sent yet, with their answers' resolvers; the earliest deadline among them. */
  let waiting = new Map<string, (answer: Answer) => void>();
  let due = Infinity;
  let scheduled = false;
  const asked = new Map<string, Promise<Answer>>();

  const send = async (keys: Map<string, (answer: Answer) => void>, sendBy: number) => {
    let answers: Map<string, Answer> | HttpFailure;
    try {
      const answer = await service.call('POST', url, bulkHeaders, `${before}${JSON.stringify([...keys.keys()])}${after}`, sendBy);
      answers = answer.status === 404 ? new Map() : split(answer.body, batch, targets);
    } catch (error) {
      answers = isHttpFailure(error) ? error : httpFailure('E_HTTP_UNAVAILABLE', `POST ${url}: ${(error as Error).message}`, { cause: error });
    }
    for (const [key, resolve] of keys) {
      asked.delete(key);
      resolve(isHttpFailure(answers) ? answers : (answers.get(key) ?? 'not-found'));
    }
  };
  const flush = () => {
    scheduled = false;
    if (waiting.size === 0) return;
    const keys = waiting;
    const sendBy = due;
    waiting = new Map();
    due = Infinity;
    void send(keys, sendBy);
  };

  return (key, recordDue) => {
    let answer = asked.get(key);
    if (answer === undefined) {
      answer = new Promise<Answer>((resolve) => waiting.set(key, resolve));
      asked.set(key, answer);
      if (recordDue < due) due = recordDue;
      if (waiting.size >= batch['max-keys']) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    }
    return answer;
  };
}

/** A bulk answer as each key's answer: its row's values, or the failure of a row that does not fit. */
function split(body: unknown, batch: BatchOptions, targets: readonly MergeTarget[]): Map<string, Answer> | HttpFailure {
  const rows = batch.rows === undefined ? body : valueAt(body, batch.rows.split('.'));
  if (!Array.isArray(rows)) return httpFailure('E_RESPONSE', `POST ${batch.url}: the answer has no array of rows${batch.rows === undefined ? '' : ` at "${batch.rows}"`}`);
  const answers = new Map<string, Answer>();
  const keyPath = batch['response-key'].split('.');
  for (const row of rows) {
    const key = valueAt(row, keyPath);
    if (key === undefined || key === null) continue;
    const extracted = extract(row, targets);
    answers.set(typeof key === 'string' ? key : JSON.stringify(key), typeof extracted === 'string' ? httpFailure('E_RESPONSE', `POST ${batch.url}: "${extracted}" does not fit the output record`) : extracted);
  }
  return answers;
}

export const enrichHttpStage: StageSpec<typeof config> = {
  kind: 'enrich-http',
  buildsOutput: true,
  summary: 'Calls an HTTP service per record and merges response fields into the output record.',
  config,
  examples: [
    {
      service: 'content-api',
      url: 'http://127.0.0.1:18081/documents/{id}',
      merge: { category: 'category', thumbnail_url: 'thumbnailUrl' },
      'on-failure': 'dlq',
      cache: { 'ttl-ms': 60_000, 'max-entries': 10_000 },
    },
  ],
  create(options, context) {
    const problems: ConfigProblem[] = [];
    const service = context.service(options.service);
    if (!service) problems.push({ path: 'service', message: `no service "${options.service}" in the top-level services block` });
    else if (options.url.startsWith('/') && !service.hasBaseUrl) {
      problems.push({ path: 'url', message: `a relative URL needs services.${options.service}.base-url` });
    }
    const url = compileTemplate(options.url, false, context, 'url', problems);
    const body = options.body === undefined ? undefined : compileTemplate(options.body, true, context, 'body', problems);
    const { targets } = mergeTargets('enrich-http', options.merge, context, problems);
    const onError = options['on-failure'];
    const onNotFound = options['on-not-found'] ?? onError;
    if ((onError === 'default' || onNotFound === 'default') && options.default === undefined) {
      problems.push({ path: 'default', message: 'the default policy needs a default { field = value } block' });
    }
    const batch = options.batch;
    let keySlot = -1;
    if (batch) {
      const placeholders = [...options.url.matchAll(PLACEHOLDER)].map((m) => m[1]!);
      const keyField = batch.key ?? (placeholders.length === 1 ? placeholders[0] : undefined);
      if (keyField === undefined) problems.push({ path: 'batch.key', message: 'name the key field: the url has no single placeholder to take it from' });
      else if (schemaAt(context.rules, keyField) === undefined) problems.push({ path: 'batch.key', message: `field "${keyField}" is not defined by the flow's rules` });
      else keySlot = context.fields.slot(keyField);
      if ([...batch.url.matchAll(PLACEHOLDER)].length > 0) problems.push({ path: 'batch.url', message: 'the bulk endpoint takes no {field} placeholders: the keys go in the body' });
      if (batch.url.startsWith('/') && service && !service.hasBaseUrl) problems.push({ path: 'batch.url', message: `a relative URL needs services.${options.service}.base-url` });
      if (!batch.body.includes('{keys}')) problems.push({ path: 'batch.body', message: 'the body needs a {keys} placeholder for the keys' });
    }
    if (problems.length > 0) throw new SluiceError('SLC_MAPPING', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { problems });
    const defaults = mergeDefaults(targets, options.default);
    const cache = options.cache && new LRUCache<string, unknown[] | 'not-found'>({ max: options.cache['max-entries'], ttl: options.cache['ttl-ms'] });
    const deadline = context.deadlineMs;
    const headers = { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}), ...options.headers };

    /** One call per request in flight: records missing the cache for the same request share it. */
    const calling = new Map<string, Promise<Answer>>();
    const call = async (target: string, payload: string | undefined, due: number): Promise<Answer> => {
      try {
        const answer = await service!.call(options.method, target, headers, payload, due);
        if (answer.status === 404) return 'not-found';
        const extracted = extract(answer.body, targets);
        if (typeof extracted !== 'string') return extracted;
        return httpFailure('E_RESPONSE', `${options.method} ${target}: "${extracted}" does not fit the output record`);
      } catch (error) {
        if (isHttpFailure(error)) return error;
        throw error;
      }
    };

    const lookUp = batch && service!.batchLookups ? batchLookup(service!, batch, targets, headers) : undefined;

    return {
      callsOut: true,
      async process(record) {
        if (lookUp) {
          const value = fieldValue(record, keySlot);
          const key = value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
          let answer: Answer | undefined = cache?.get(key);
          if (answer === undefined) {
            const due = deadline === undefined ? Infinity : record.receivedAt + deadline;
            if (due <= performance.now()) return onFailure(onError, 'E_DEADLINE', `the record's ${deadline} ms budget is spent`, record, targets, defaults);
            answer = await lookUp(key, due);
            if (cache && !isHttpFailure(answer)) cache.set(key, answer);
          }
          if (isHttpFailure(answer)) return onFailure(onError, answer.reason, answer.message, record, targets, defaults);
          if (answer === 'not-found') return onFailure(onNotFound, 'E_LOOKUP_MISS', `${batch!.url}: no row for ${key}`, record, targets, defaults);
          applyMerge(record, targets, answer);
          return CONTINUE;
        }
        const target = service!.resolve(fill(url, record));
        const payload = body && fill(body, record);
        const cacheKey = cache && `${options.method} ${target} ${payload ?? ''}`;
        let answer: Answer | undefined = cacheKey === undefined ? undefined : cache!.get(cacheKey);
        if (answer === undefined) {
          const due = deadline === undefined ? Infinity : record.receivedAt + deadline;
          if (due <= performance.now()) return onFailure(onError, 'E_DEADLINE', `the record's ${deadline} ms budget is spent`, record, targets, defaults);
          if (cacheKey === undefined) answer = await call(target, payload, due);
          else {
            let shared = calling.get(cacheKey);
            if (shared === undefined) {
              shared = call(target, payload, due).finally(() => calling.delete(cacheKey));
              calling.set(cacheKey, shared);
            }
            answer = await shared;
            if (!isHttpFailure(answer)) cache!.set(cacheKey, answer);
          }
        }
        if (isHttpFailure(answer)) return onFailure(onError, answer.reason, answer.message, record, targets, defaults);
        if (answer === 'not-found') return onFailure(onNotFound, 'E_LOOKUP_MISS', `${options.method} ${target}: not found`, record, targets, defaults);
        applyMerge(record, targets, answer);
        return CONTINUE;
      },
    };
  },
};
