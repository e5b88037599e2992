// enrich-http: calls an HTTP service for each record (URL and body templates filled from its
// fields) and merges chosen response fields into the output record. Resilience (timeout,
// retries, circuit breaker, concurrency) belongs to the service, shared by the stages naming it.
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { type ConfigProblem, SluiceError } from '../errors.ts';
import type { StageSpec } from '../component/spec.ts';
import { fieldValue } from '../component/fields.ts';
import { schemaAt } from '../component/rules.ts';
import { type HttpFailure, httpFailure, isHttpFailure } from '../component/service.ts';
import { CONTINUE, type FlowRecord } from '../component/types.ts';
import { applyMerge, failurePolicy, type MergeTarget, mergeDefaults, mergeTargets, onFailure, scalar } from './merge.ts';

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
    .describe('Answers kept per request (method, URL, body)'),
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

function at(body: unknown, path: string): unknown {
  let node = body;
  for (const name of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[name];
  }
  return node;
}

/** The converted response values in target order, or the name of the first that does not fit. */
function extract(body: unknown, targets: readonly MergeTarget[]): unknown[] | string {
  const values: unknown[] = [];
  for (const t of targets) {
    const raw = at(body, t.source);
    const value = raw === undefined || raw === null ? undefined : t.convert(raw);
    if (value === undefined && raw !== undefined && raw !== null) return t.source;
    values.push(value);
  }
  return values;
}

/** What a call came to: the values to merge, not found, or a failure. */
type Answer = unknown[] | 'not-found' | HttpFailure;

export const enrichHttpStage: StageSpec<typeof config> = {
  kind: 'enrich-http',
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

    return {
      callsOut: true,
      async process(record) {
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
