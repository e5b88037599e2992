// enrich-http against what issue 4 (enrichment over HTTP) asks of it: merge, placeholders,
// headers and bodies; retries with full-jitter backoff and Retry-After; status mapping; failure
// policies; the circuit breaker; per-key order with concurrency across keys; the cache; the
// bulkhead; no message lost or duplicated under failures; deadlines; isolation of one flow from
// another flow's dead service (the CLI); local-services. The HTTP service is a real server on
// 127.0.0.1 (http-fixture.ts) that the tests script per request and that records every request.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runFlow } from '../../src/index.ts';
import type { FlowRun, TestInput } from '../../src/index.ts';
import { packageRoot } from '../../src/package-root.ts';
import { documentFor, documents, freePort, type HttpFixture, listening, prng, type Reply, type Request, startFixture } from './http-fixture.ts';

const local = join(packageRoot, 'config', 'local.conf');
const rulesFile = join(packageRoot, 'config', 'rules', 'content.schema.json');
const dir = mkdtempSync(join(tmpdir(), 'sluice-enrich-http-'));
const fixtures: HttpFixture[] = [];
test.after(async () => {
  await Promise.all(fixtures.map((f) => f.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function server(handler?: (r: Request) => Reply | Promise<Reply>): Promise<HttpFixture> {
  const fixture = await startFixture(handler);
  fixtures.push(fixture);
  return fixture;
}

// ---------------------------------------------------------------------------------------------
// inputs, configs, outputs

const idOf = (n: number) => `cnt-${String(n).padStart(6, '0')}`;
const item = (n: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: idOf(n),
    type: 'article',
    status: 'published',
    title: `Title ${n}`,
    language: 'en',
    publishedAt: '2024-01-02T03:04:05Z',
    version: 1,
    author: { id: 'aut-1' },
    ...extra,
  });
/** The content id a request is about: /documents/<id>, or the id in a JSON body. */
const idIn = (r: Request): string => /cnt-\d{6}/.exec(r.path)?.[0] ?? /cnt-\d{6}/.exec(r.body)?.[0] ?? '';

const MAP = `{ kind = map, name = to-item-record, target = "sluice.recommender.v1.ItemRecord", fields { item_id = id, title = title, version = version, author_id = "author.id" } }`;

interface ServiceOptions {
  timeoutMs?: number;
  maxConcurrency?: number;
  attempts?: number;
  initialMs?: number;
  maxDelayMs?: number;
  failures?: number;
  halfOpenMs?: number;
}

let serviceCounter = 0;
/** A uniquely named service (breaker state cannot leak from one test into another). */
function service(options: ServiceOptions = {}): { name: string; hocon: string } {
  const name = `svc-${++serviceCounter}`;
  const o = { timeoutMs: 2000, maxConcurrency: 64, attempts: 3, initialMs: 5, maxDelayMs: 20, failures: 100_000, halfOpenMs: 60_000, ...options };
  return {
    name,
    hocon: `services.${name} {
  timeout-ms = ${o.timeoutMs}
  max-concurrency = ${o.maxConcurrency}
  retry { max-attempts = ${o.attempts}, initial-delay-ms = ${o.initialMs}, max-delay-ms = ${o.maxDelayMs} }
  circuit-breaker { consecutive-failures = ${o.failures}, half-open-after-ms = ${o.halfOpenMs} }
}`,
  };
}

/** An enrich-http stage; `extra` is more HOCON inside the stage block. */
function enrich(svc: string, url: string, extra = '', name = 'doc'): string {
  const hasMerge = /\bmerge\s*\{/.test(extra);
  return `{
    kind = enrich-http
    name = ${name}
    service = ${svc}
    url = "${url}"
    ${hasMerge ? '' : 'merge { category = category, thumbnail_url = "images.thumb" }'}
    ${extra}
  }`;
}

let confCounter = 0;
/** A configuration: local.conf with the content flow's stages replaced by the map stage and `stages`. */
function conf(stages: string[], services: string[], extra = ''): string {
  const file = join(dir, `case-${++confCounter}.conf`);
  writeFileSync(
    file,
    `include "${local}"
log.level = silent
flows.content.stages = [
  ${MAP}
  ${stages.join('\n  ')}
]
${services.join('\n')}
${extra}
`,
  );
  return file;
}

interface Item {
  itemId: string;
  title: string;
  category?: string;
  thumbnailUrl?: string;
}
const outs = (run: FlowRun) => run.outputs.map((o) => o.value as Item);
const letterSummary = (run: FlowRun) => run.deadLetters.map((d) => [d.input, d.reason, d.stage]);
const explain = (run: FlowRun) => JSON.stringify({ outputs: run.outputs.map((o) => o.value), deadLetters: run.deadLetters.map(({ value, ...d }) => ({ ...d, value: Buffer.from(value).toString() })), summary: run.summary });

/** Polls `condition` until it holds; fails after `ms`. */
async function until(ms: number, what: string, condition: () => boolean): Promise<void> {
  for (const deadline = performance.now() + ms; !condition(); ) {
    if (performance.now() > deadline) assert.unreachable(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Fails instead of hanging when the implementation never finishes. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not finished within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const run = (config: string, inputs: TestInput[], ms = 10_000) => within(ms, 'runFlow', runFlow(config, 'content', inputs));

function assertMerged(record: Item, id: string, message = id): void {
  const doc = documentFor(id);
  assert.is(record.itemId, id, message);
  assert.is(record.category, doc.category, `${message}: category`);
  assert.is(record.thumbnailUrl, doc.images.thumb, `${message}: thumbnail_url from the dotted path images.thumb`);
}

/** Requests per content id, in arrival order. */
function byId(requests: readonly Request[]): Map<string, Request[]> {
  const map = new Map<string, Request[]>();
  for (const r of requests) {
    const id = idIn(r);
    map.set(id, [...(map.get(id) ?? []), r]);
  }
  return map;
}

/** Gaps between one attempt's answer and the next attempt's start, in ms. */
function gaps(attempts: readonly Request[]): number[] {
  return attempts.slice(1).map((r, i) => r.start - attempts[i]!.end!);
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Measures how late this process's timers run (a loaded machine, GC): returns a function giving the
 * worst lateness seen, in ms. The service and the flow share this process, so timing bounds allow
 * that much on top of what the contract says (and say so in their messages).
 */
function loopLag(): () => number {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  return () => {
    histogram.disable();
    return histogram.max / 1e6;
  };
}

/** A handler that answers the i-th attempt for an id (0-based) with script(id)[i], documents after. */
function scripted(script: (id: string) => Reply[]): (r: Request) => Reply {
  const seen = new Map<string, number>();
  return (r) => {
    const id = idIn(r);
    const attempt = seen.get(id) ?? 0;
    seen.set(id, attempt + 1);
    return script(id)[attempt] ?? documents(r);
  };
}

// ---------------------------------------------------------------------------------------------
// 1. merge, placeholders, headers, bodies

test('merge: response fields (dotted paths) land in the record; URL placeholders filled and URI-encoded; headers sent', async () => {
  process.env.SLUICE_TEST_ENRICH_KEY = 'k-123';
  const http = await server();
  const svc = service();
  const config = conf(
    [
      enrich(
        svc.name,
        `${http.base}/documents/{id}?author={author.id}&title={/title}`,
        `headers { Authorization = "Bearer t0k", "X-Api-Key" = \${?SLUICE_TEST_ENRICH_KEY} }`,
      ),
    ],
    [svc.hocon],
  );
  const awkward = 'Ä b/c?d&e=f#g %20+\'"';
  let result: FlowRun;
  try {
    result = await run(config, [{ value: item(1) }, { value: item(2, { title: awkward, author: { id: 'aut-77' } }) }]);
  } finally {
    delete process.env.SLUICE_TEST_ENRICH_KEY; // read when runFlow loads the configuration
  }
  assert.equal(result.deadLetters, [], explain(result));
  assert.is(result.outputs.length, 2, explain(result));
  assertMerged(outs(result)[0]!, idOf(1));
  assertMerged(outs(result)[1]!, idOf(2));
  assert.is(outs(result)[1]!.title, awkward, 'the mapped fields stay');

  assert.is(http.requests.length, 2);
  const second = http.requests.find((r) => idIn(r) === idOf(2))!;
  assert.is(second.method, 'GET');
  assert.is(second.path, `/documents/${idOf(2)}`);
  const rawQuery = second.url.slice(second.url.indexOf('?') + 1);
  const params = Object.fromEntries(rawQuery.split('&').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
  assert.equal(Object.keys(params), ['author', 'title'], `the encoded value must not add query separators: ${second.url}`);
  assert.match(params.title!, /^[A-Za-z0-9\-_.!~*'()%]+$/, `title is percent-encoded: ${params.title}`);
  assert.is(decodeURIComponent(params.title!), awkward, 'the title placeholder (a JSON Pointer) round-trips');
  assert.is(decodeURIComponent(params.author!), 'aut-77', 'the author.id placeholder (a dotted path)');
  for (const r of http.requests) {
    assert.is(r.headers.authorization, 'Bearer t0k');
    assert.is(r.headers['x-api-key'], 'k-123', 'a header value from the environment (${?ENV})');
  }
});

for (const method of ['POST', 'PUT']) {
  test(`merge: ${method} with a body template gets each field as its JSON text`, async () => {
    const http = await server((r) => {
      const body = JSON.parse(r.body) as { id: string };
      return { json: documentFor(body.id) };
    });
    const svc = service();
    const config = conf(
      [enrich(svc.name, `${http.base}/lookup`, `method = ${method}\n    body = """{"id": {id}, "author": {author.id}, "version": {version}, "title": {title}}"""`)],
      [svc.hocon],
    );
    const title = 'He said "hi" \\ ü';
    const result = await run(config, [{ value: item(3, { version: 7, title }) }]);
    assert.equal(result.deadLetters, [], explain(result));
    assertMerged(outs(result)[0]!, idOf(3));
    assert.is(http.requests.length, 1);
    const [request] = http.requests;
    assert.is(request!.method, method);
    assert.is(request!.path, '/lookup');
    assert.equal(JSON.parse(request!.body), { id: idOf(3), author: 'aut-1', version: 7, title });
  });
}

test('merge: a response that is not JSON, or a value that does not fit the target field -> E_RESPONSE, not retried', async () => {
  const http = await server((r) => {
    const id = idIn(r);
    if (id === idOf(1)) return { body: '<html>not json</html>', headers: { 'content-type': 'text/html' } };
    if (id === idOf(2)) return { json: { category: 42, images: { thumb: 'x' } } };
    return documents(r);
  });
  const svc = service();
  const result = await run(conf([enrich(svc.name, `${http.base}/documents/{id}`)], [svc.hocon]), [{ value: item(1) }, { value: item(2) }, { value: item(3) }]);
  assert.equal(letterSummary(result), [[0, 'E_RESPONSE', 'content.doc'], [1, 'E_RESPONSE', 'content.doc']], explain(result));
  assert.is(result.outputs.length, 1);
  assertMerged(outs(result)[0]!, idOf(3));
  assert.is(http.requests.length, 3, 'one attempt each');
});

// ---------------------------------------------------------------------------------------------
// 2. retries and status mapping

test('retries: 503 then 200 succeeds after 2 attempts', async () => {
  const http = await server(scripted(() => [{ status: 503 }]));
  const svc = service({ attempts: 3, initialMs: 20, maxDelayMs: 2000 });
  const result = await run(conf([enrich(svc.name, `${http.base}/documents/{id}`)], [svc.hocon]), [{ value: item(1) }]);
  assert.equal(result.deadLetters, [], explain(result));
  assertMerged(outs(result)[0]!, idOf(1));
  assert.equal(http.requests.map((r) => r.outcome), [503, 200]);
});

test('retries: backoff gaps grow, stay within [0, max-delay-ms], and are jittered (full jitter)', async () => {
  // 5 retries, initial-delay-ms = 40, max-delay-ms = 200: exponential caps 40, 80, 160, then
  // max-delay-ms (uncapped they would be 320 and 640); full jitter draws each delay in [0, cap]
  const failing = 5;
  const http = await server(scripted(() => Array.from({ length: failing }, () => ({ status: 503 }))));
  const svc = service({ attempts: failing + 1, initialMs: 40, maxDelayMs: 200 });
  const n = 30;
  const lag = loopLag();
  const result = await run(
    conf([enrich(svc.name, `${http.base}/documents/{id}`)], [svc.hocon]),
    Array.from({ length: n }, (_, i) => ({ value: item(i + 1) })),
  );
  const late = lag();
  assert.equal(result.deadLetters, [], explain(result));
  assert.is(result.outputs.length, n);
  const byRetry: number[][] = Array.from({ length: failing }, () => []);
  for (const [id, attempts] of byId(http.requests)) {
    assert.is(attempts.length, failing + 1, `${id}: attempts`);
    gaps(attempts).forEach((g, k) => byRetry[k]!.push(g));
  }
  const show = (xs: number[]) => xs.map((g) => g.toFixed(0)).join(' ');
  // gaps are measured at the server: they add the loopback round trip and timer lateness (the
  // worst seen is `late`) to the backoff; growth is compared on means, which shift alike
  const slack = 60 + late;
  const why = `(timers up to ${late.toFixed(0)} ms late)`;
  const all = byRetry.flat();
  assert.ok(Math.min(...all) >= -1, `no retry before the previous answer: min gap ${Math.min(...all)}`);
  assert.ok(Math.max(...byRetry[0]!) <= 40 + slack, `the first retry waits at most initial-delay-ms (40) ${why}: ${show(byRetry[0]!)}`);
  assert.ok(Math.max(...all) <= 200 + slack, `every retry waits at most max-delay-ms (200) ${why}: ${byRetry.map(show).join(' | ')}`);
  const means = byRetry.map(mean);
  const shown = means.map((m) => m.toFixed(1)).join(', ');
  assert.ok(means[3]! - means[0]! > 30, `gaps grow: mean gap per retry ${shown}`);
  assert.ok(means[4]! - means[0]! < 160, `the 5th retry is capped at max-delay-ms (uncapped its mean would be ~320): mean gap per retry ${shown}`);
  // full jitter: over 30 draws in [0, 200] some are small (equal jitter or none: all >= 100)
  assert.ok(Math.min(...byRetry[4]!) < 100, `the 5th gaps are spread over [0, max-delay-ms]: ${show(byRetry[4]!)}`);
});

test('retries: Retry-After on 429 (seconds) and 503 (HTTP date) is honoured', async () => {
  let date = '';
  const http = await server(
    scripted((id) => {
      if (id === idOf(1)) return [{ status: 429, headers: { 'retry-after': '1' } }];
      if (id === idOf(2)) {
        date = new Date(Date.now() + 2000).toUTCString();
        return [{ status: 503, headers: { 'retry-after': date } }];
      }
      return [];
    }),
  );
  const svc = service({ attempts: 3, initialMs: 20, maxDelayMs: 3000 });
  const lag = loopLag();
  const result = await run(conf([enrich(svc.name, `${http.base}/documents/{id}`)], [svc.hocon]), [{ value: item(1) }, { value: item(2) }]);
  const late = lag();
  assert.equal(result.deadLetters, [], explain(result));
  assert.is(result.outputs.length, 2);
  const perId = byId(http.requests);
  const [seconds] = gaps(perId.get(idOf(1))!);
  assert.ok(seconds! >= 950 && seconds! <= 1300 + late, `Retry-After: 1 -> the next attempt about 1 s later, got ${seconds!.toFixed(0)} ms`);
  const [httpDate] = gaps(perId.get(idOf(2))!);
  // an HTTP date has 1 s resolution: "now + 2 s" truncated is 1 to 2 s ahead
  assert.ok(httpDate! >= 900 && httpDate! <= 2200 + late, `Retry-After: ${date} -> the next attempt 1-2 s later, got ${httpDate!.toFixed(0)} ms`);
});

test('retries: Retry-After is capped at max-delay-ms', async () => {
  const http = await server(scripted(() => [{ status: 429, headers: { 'retry-after': '30' } }]));
  const svc = service({ attempts: 3, initialMs: 20, maxDelayMs: 300 });
  const result = await run(conf([enrich(svc.name, `${http.base}/documents/{id}`)], [svc.hocon]), [{ value: item(1) }]);
  assert.equal(result.deadLetters, [], explain(result));
  const [gap] = gaps(http.requests);
  assert.ok(gap! <= 300 + 100, `Retry-After: 30 capped at max-delay-ms = 300, got ${gap!.toFixed(0)} ms`);
});

test('status mapping: 400 -> E_HTTP_STATUS and 404 -> E_LOOKUP_MISS, not retried; reset retried; 500 and 429 -> E_HTTP_UNAVAILABLE after max-attempts', async () => {
  const http = await server(
    scripted((id) => {
      switch (id) {
        case idOf(1):
          return Array.from({ length: 9 }, () => ({ status: 400 }));
        case idOf(2):
          return Array.from({ length: 9 }, () => ({ status: 404, json: { error: 'not found' } }));
        case idOf(3):
          return [{ reset: true }];
        case idOf(4):
          return Array.from({ length: 9 }, () => ({ status: 500 }));
        case idOf(5):
          return Array.from({ length: 9 }, () => ({ status: 429 }));
        case idOf(6):
          return Array.from({ length: 9 }, () => ({ reset: true }));
        default:
          return [];
      }
    }),
  );
  const svc = service({ attempts: 3, initialMs: 5, maxDelayMs: 20 });
  const result = await run(
    conf([enrich(svc.name, `${http.base}/documents/{id}`)], [svc.hocon]),
    [1, 2, 3, 4, 5, 6, 7].map((n) => ({ value: item(n) })),
  );
  assert.equal(
    letterSummary(result),
    [
      [0, 'E_HTTP_STATUS', 'content.doc'],
      [1, 'E_LOOKUP_MISS', 'content.doc'],
      [3, 'E_HTTP_UNAVAILABLE', 'content.doc'],
      [4, 'E_HTTP_UNAVAILABLE', 'content.doc'],
      [5, 'E_HTTP_UNAVAILABLE', 'content.doc'],
    ],
    explain(result),
  );
  assert.equal(outs(result).map((o) => o.itemId), [idOf(3), idOf(7)]);
  assertMerged(outs(result)[0]!, idOf(3), 'a reset is retried');
  const attempts = new Map([...byId(http.requests)].map(([id, rs]) => [id, rs.length]));
  assert.equal(
    [1, 2, 3, 4, 5, 6, 7].map((n) => attempts.get(idOf(n))),
    [1, 1, 2, 3, 3, 3, 1],
    'attempts per record: 400 and 404 once, reset then 200 twice, 500 / 429 / reset max-attempts',
  );
});

test('retries: a timeout (latency > timeout-ms) is retried, then E_HTTP_UNAVAILABLE', async () => {
  const http = await server(() => ({ delayMs: 600, json: documentFor(idOf(1)) }));
  const svc = service({ timeoutMs: 100, attempts: 3, initialMs: 5, maxDelayMs: 20 });
  const lag = loopLag();
  const result = await run(conf([enrich(svc.name, `${http.base}/documents/{id}`)], [svc.hocon]), [{ value: item(1) }]);
  const late = lag();
  const elapsed = performance.now() - http.requests[0]!.start;
  assert.equal(letterSummary(result), [[0, 'E_HTTP_UNAVAILABLE', 'content.doc']], explain(result));
  assert.is(http.requests.length, 3, 'max-attempts attempts');
  http.requests.slice(1).forEach((r, i) => {
    const gap = r.start - http.requests[i]!.start;
    assert.ok(gap >= 85 && gap < 100 + 20 + 60 + late, `the next attempt starts after timeout-ms (100) + backoff (<= 20), not after the slow answer: ${gap.toFixed(0)} ms`);
  });
  assert.ok(elapsed < 3 * 100 + 40 + 100 + late, `the run does not wait for the slow answers: ${elapsed.toFixed(0)} ms after the first attempt`);
});

// ---------------------------------------------------------------------------------------------
// 3. failure policies

async function policyRun(extra: string): Promise<{ result: FlowRun; http: HttpFixture }> {
  // record 0: found; record 1: the service fails (500); record 2: 404
  const http = await server((r) => {
    const id = idIn(r);
    if (id === idOf(2)) return { status: 500 };
    if (id === idOf(3)) return { status: 404, json: { error: 'not found' } };
    return documents(r);
  });
  const svc = service({ attempts: 2, initialMs: 1, maxDelayMs: 2 });
  const config = conf([enrich(svc.name, `${http.base}/documents/{id}`, extra)], [svc.hocon]);
  return { result: await run(config, [1, 2, 3].map((n) => ({ value: item(n) }))), http };
}

test('on-failure = dlq: dead letters with reason and stage (404 follows on-failure)', async () => {
  const { result } = await policyRun('on-failure = dlq');
  assert.equal(letterSummary(result), [[1, 'E_HTTP_UNAVAILABLE', 'content.doc'], [2, 'E_LOOKUP_MISS', 'content.doc']], explain(result));
  assert.ok(result.deadLetters.every((d) => d.message.length > 0), 'a dead letter says what went wrong');
  assert.is(Buffer.from(result.deadLetters[0]!.value).toString(), item(2), 'the dead letter keeps the original value');
  assert.equal(outs(result).map((o) => o.itemId), [idOf(1)]);
  assert.is(result.summary.deadLettered, 2);
});

test('on-failure = drop: no output, no dead letter, counted as dropped', async () => {
  const { result } = await policyRun('on-failure = drop');
  assert.equal(result.deadLetters, [], explain(result));
  assert.equal(outs(result).map((o) => o.itemId), [idOf(1)]);
  assert.is(result.summary.dropped, 2);
  assert.is(result.summary.deadLettered, 0);
  assert.is(result.summary.written, 1);
});

test('on-failure = skip-stage: the record goes on without the merged fields', async () => {
  const { result } = await policyRun('on-failure = skip-stage');
  assert.equal(result.deadLetters, [], explain(result));
  const records = outs(result);
  assert.equal(records.map((o) => o.itemId), [idOf(1), idOf(2), idOf(3)]);
  assertMerged(records[0]!, idOf(1));
  for (const r of records.slice(1)) {
    assert.is(r.category, undefined, `${r.itemId}: no category`);
    assert.is(r.thumbnailUrl, undefined, `${r.itemId}: no thumbnail`);
    assert.is(r.title, `Title ${Number(r.itemId.slice(4))}`, 'the mapped fields stay');
  }
});

test('on-failure = default: the defaults are merged', async () => {
  const { result } = await policyRun('on-failure = default\n    default { category = unknown, thumbnail_url = "https://img.test/none.jpg" }');
  assert.equal(result.deadLetters, [], explain(result));
  const records = outs(result);
  assert.equal(records.map((o) => o.itemId), [idOf(1), idOf(2), idOf(3)]);
  assertMerged(records[0]!, idOf(1));
  for (const r of records.slice(1)) {
    assert.is(r.category, 'unknown');
    assert.is(r.thumbnailUrl, 'https://img.test/none.jpg');
  }
});

test('on-not-found: its own policy for a 404', async () => {
  const skip = (await policyRun('on-failure = dlq\n    on-not-found = skip-stage')).result;
  assert.equal(letterSummary(skip), [[1, 'E_HTTP_UNAVAILABLE', 'content.doc']], explain(skip));
  assert.equal(outs(skip).map((o) => [o.itemId, o.category]), [[idOf(1), documentFor(idOf(1)).category], [idOf(3), undefined]]);

  const drop = (await policyRun('on-failure = default\n    on-not-found = drop\n    default { category = unknown }')).result;
  assert.equal(drop.deadLetters, [], explain(drop));
  assert.equal(outs(drop).map((o) => [o.itemId, o.category]), [[idOf(1), documentFor(idOf(1)).category], [idOf(2), 'unknown']]);
  assert.is(drop.summary.dropped, 1);
});

// ---------------------------------------------------------------------------------------------
// 4. circuit breaker

test('circuit breaker: opens after N consecutive failed calls (a success resets the count); then fails fast without a request', async () => {
  const answers = [500, 500, 200, 500, 500, 500];
  const http = await server((r) => {
    const status = answers[r.index] ?? 200;
    return status === 200 ? documents(r) : { status };
  });
  const svc = service({ attempts: 1, failures: 3, halfOpenMs: 30_000 });
  const n = 10;
  const result = await run(
    conf([enrich(svc.name, `${http.base}/documents/{id}`)], [svc.hocon]),
    Array.from({ length: n }, (_, i) => ({ value: item(i + 1), key: 'same-key' })), // one after the other
  );
  assert.equal(
    letterSummary(result),
    [
      [0, 'E_HTTP_UNAVAILABLE', 'content.doc'],
      [1, 'E_HTTP_UNAVAILABLE', 'content.doc'],
      [3, 'E_HTTP_UNAVAILABLE', 'content.doc'],
      [4, 'E_HTTP_UNAVAILABLE', 'content.doc'],
      [5, 'E_HTTP_UNAVAILABLE', 'content.doc'],
      [6, 'E_CIRCUIT_OPEN', 'content.doc'],
      [7, 'E_CIRCUIT_OPEN', 'content.doc'],
      [8, 'E_CIRCUIT_OPEN', 'content.doc'],
      [9, 'E_CIRCUIT_OPEN', 'content.doc'],
    ],
    explain(result),
  );
  assert.equal(outs(result).map((o) => o.itemId), [idOf(3)]);
  assert.is(http.requests.length, 6, 'an open breaker sends nothing');
});

test('circuit breaker: after half-open-after-ms one probe goes through (nothing else is sent until its answer); its success closes the breaker', async () => {
  // stage 1 (its own healthy service) delays records into three waves at stage 2:
  // wave 1 (3 records, t~0) fails and opens the breaker; wave 2 (10 records, t~450 ms, past
  // half-open-after-ms = 250) arrives together: one probe (answered after 200 ms), nothing else
  // reaches the service before its answer; wave 3 (3 records, t~900 ms) finds the breaker closed.
  const wave = (n: number) => (n <= 3 ? 1 : n <= 13 ? 2 : 3);
  const delay = [0, 0, 450, 900];
  const gate = await server((r) => ({ delayMs: delay[wave(Number(idIn(r).slice(4)))], json: { category: 'gate' } }));
  const probed = await server((r) => (r.index < 3 ? { status: 500 } : r.index === 3 ? { ...documents(r), delayMs: 200 } : documents(r)));
  const first = service({ timeoutMs: 5000 });
  const second = service({ attempts: 1, failures: 3, halfOpenMs: 250 });
  const config = conf(
    [
      enrich(first.name, `${gate.base}/documents/{id}`, 'merge { category = category }', 'gate'),
      enrich(second.name, `${probed.base}/documents/{id}`, 'merge { thumbnail_url = "images.thumb" }', 'probed'),
    ],
    [first.hocon, second.hocon],
  );
  const result = await run(config, Array.from({ length: 16 }, (_, i) => ({ value: item(i + 1) })));
  const reasons = (w: number) => result.deadLetters.filter((d) => wave(d.input + 1) === w).map((d) => d.reason);
  assert.equal(reasons(1), ['E_HTTP_UNAVAILABLE', 'E_HTTP_UNAVAILABLE', 'E_HTTP_UNAVAILABLE'], explain(result));
  assert.ok(result.deadLetters.every((d) => d.stage === 'content.probed'), explain(result));
  assert.ok(probed.requests.length >= 3 + 1 + 3, `${probed.requests.length} requests`);
  const [, , third, probe, ...after] = probed.requests;
  assert.ok(probe!.start - third!.end! >= 240, `no probe before half-open-after-ms: ${(probe!.start - third!.end!).toFixed(0)} ms after opening`);
  for (const r of after) {
    assert.ok(r.start >= probe!.end! - 1, `half-open: one probe only, ${idIn(r)} was sent ${(probe!.end! - r.start).toFixed(0)} ms before the probe's answer`);
  }
  // the other calls of wave 2 either failed fast or waited for the probe and went through after it
  for (const d of result.deadLetters.filter((x) => wave(x.input + 1) === 2)) assert.is(d.reason, 'E_CIRCUIT_OPEN', `record ${d.input}`);
  const written = outs(result).map((o) => Number(o.itemId.slice(4)));
  assert.ok(written.includes(Number(idIn(probe!).slice(4))), 'the probe succeeded');
  assert.equal(written.filter((n) => wave(n) === 3), [14, 15, 16], 'the probe closed the breaker');
  assert.equal(
    probed.requests.filter((r) => wave(Number(idIn(r).slice(4))) === 3).length,
    3,
    'closed again: wave 3 is sent',
  );
});

test('outage and recovery: a closed service fails the calls and opens the breaker; back on its port, a probe closes it again', async () => {
  // the service goes away (connection refused); stage 1 (a healthy service) delays records into
  // waves at stage 2: wave 1 (t~0) fails and opens the breaker; wave 2 (t~150 ms) fails fast; the
  // service comes back at t~450 ms; wave 3 (t~900 ms, past half-open-after-ms = 600) recovers
  const wave = (n: number) => (n <= 5 ? 1 : n <= 10 ? 2 : 3);
  const delay = [0, 0, 150, 900];
  const outage = await server();
  await outage.close();
  let restarting: Promise<unknown> | undefined;
  const gate = await server((r) => {
    const w = wave(Number(idIn(r).slice(4)));
    if (w === 2) restarting ??= new Promise((resolve) => setTimeout(resolve, 450)).then(() => outage.start());
    return { delayMs: delay[w], json: { category: 'gate' } };
  });
  const first = service({ timeoutMs: 5000 });
  const second = service({ attempts: 2, initialMs: 5, maxDelayMs: 10, failures: 3, halfOpenMs: 600 });
  const config = conf(
    [
      enrich(first.name, `${gate.base}/documents/{id}`, 'merge { category = category }', 'gate'),
      enrich(second.name, `${outage.base}/documents/{id}`, 'merge { thumbnail_url = "images.thumb" }', 'outage'),
    ],
    [first.hocon, second.hocon],
  );
  const result = await run(config, Array.from({ length: 15 }, (_, i) => ({ value: item(i + 1) })));
  await restarting;
  const reasons = (w: number) => result.deadLetters.filter((d) => wave(d.input + 1) === w).map((d) => d.reason);
  assert.is(reasons(1).length, 5, explain(result));
  assert.ok(reasons(1).every((r) => r === 'E_HTTP_UNAVAILABLE' || r === 'E_CIRCUIT_OPEN'), `wave 1: ${reasons(1)}`);
  assert.ok(reasons(1).filter((r) => r === 'E_HTTP_UNAVAILABLE').length >= 3, `wave 1: ${reasons(1)}`);
  assert.equal(reasons(2), Array(5).fill('E_CIRCUIT_OPEN'), 'wave 2: the breaker is open');
  assert.ok(result.deadLetters.every((d) => d.stage === 'content.outage'));
  const written = outs(result);
  assert.equal(written.map((o) => o.itemId), [11, 12, 13, 14, 15].map(idOf), 'wave 3: recovered');
  written.forEach((o) => assert.is(o.thumbnailUrl, documentFor(o.itemId).images.thumb));
  assert.equal(outage.requests.map((r) => wave(Number(idIn(r).slice(4)))), [3, 3, 3, 3, 3], 'after recovery: one request per record of wave 3');
});

// ---------------------------------------------------------------------------------------------
// 5. per-key order

test('per-key order: a key\'s requests start in input order, never overlap; outputs in input order; keys overlap', async () => {
  const random = prng(5);
  const http = await server((r) => ({ ...documents(r), delayMs: Math.floor(random() * 31) }));
  const svc = service();
  const n = 200;
  const keyOf = (i: number) => `k${i % 10}`;
  const inputs = Array.from({ length: n }, (_, i) => ({ value: item(i + 1), key: keyOf(i) }));
  const result = await run(conf([enrich(svc.name, `${http.base}/documents/{id}`)], [svc.hocon]), inputs);
  assert.equal(result.deadLetters, [], explain(result));
  assert.equal(outs(result).map((o) => o.itemId), inputs.map((_, i) => idOf(i + 1)), 'outputs in input order');
  assert.equal(result.outputs.map((o) => o.key), inputs.map((x) => x.key), 'the input key passes through');
  outs(result).forEach((o) => assertMerged(o, o.itemId));
  assert.is(http.requests.length, n);
  for (let k = 0; k < 10; k++) {
    const expected = inputs.map((_, i) => i).filter((i) => keyOf(i) === `k${k}`).map((i) => idOf(i + 1));
    const started = http.requests.filter((r) => expected.includes(idIn(r))).sort((a, b) => a.start - b.start);
    assert.equal(started.map(idIn), expected, `key k${k}: requests start in input order`);
    started.slice(1).forEach((r, i) => {
      assert.ok(r.start >= started[i]!.end!, `key k${k}: ${idIn(r)} started ${(started[i]!.end! - r.start).toFixed(1)} ms before the answer to ${idIn(started[i]!)}`);
    });
  }
  assert.ok(http.maxConcurrent > 1, `different keys run concurrently: max ${http.maxConcurrent} requests in flight`);
});

test('max-in-flight: the next batch calls out while the previous one still waits; outputs in input order; per-key order across batches', async () => {
  const random = prng(6);
  const http = await server((r) => ({ ...documents(r), delayMs: Math.floor(random() * 6) }));
  const svc = service();
  const n = 2500; // the test driver hands over batches of 1024
  const keyOf = (i: number) => (i % 2 === 0 ? null : `k${i % 7}`);
  const inputs = Array.from({ length: n }, (_, i) => ({ value: item(i + 1), key: keyOf(i) }));
  const result = await run(conf([enrich(svc.name, `${http.base}/documents/{id}`)], [svc.hocon], 'flows.content.max-in-flight = 3'), inputs, 30_000);
  assert.equal(result.deadLetters, [], explain(result));
  assert.equal(outs(result).map((o) => o.itemId), inputs.map((_, i) => idOf(i + 1)), 'outputs in input order');
  const requestOf = new Map(http.requests.map((r) => [idIn(r), r]));
  const lastAnswerOfFirstBatch = Math.max(...inputs.slice(0, 1024).map((_, i) => requestOf.get(idOf(i + 1))!.end!));
  const firstStartOfSecondBatch = Math.min(...inputs.slice(1024, 2048).map((_, i) => requestOf.get(idOf(1024 + i + 1))!.start));
  assert.ok(firstStartOfSecondBatch < lastAnswerOfFirstBatch, 'the second batch calls out before the first has all its answers');
  for (let k = 0; k < 7; k++) {
    const expected = inputs.map((_, i) => i).filter((i) => keyOf(i) === `k${k}`).map((i) => idOf(i + 1));
    const started = expected.map((id) => requestOf.get(id)!);
    started.slice(1).forEach((r, i) => {
      assert.ok(r.start >= started[i]!.end!, `key k${k}: ${idIn(r)} started before the answer to ${idIn(started[i]!)}`);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// 6. cache

test('cache: the same URL within the TTL is one request; max-entries is respected', async () => {
  const http = await server();
  const svc = service();
  const config = conf([enrich(svc.name, `${http.base}/documents/{id}`, 'cache { ttl-ms = 60000, max-entries = 2 }')], [svc.hocon]);
  const sequence = [1, 1, 2, 3, 1, 3, 2];
  // one key: one record after the other, each sees the cache as the previous one left it
  const result = await run(config, sequence.map((n) => ({ value: item(n), key: 'k' })));
  assert.equal(result.deadLetters, [], explain(result));
  assert.equal(outs(result).map((o) => o.itemId), sequence.map(idOf));
  outs(result).forEach((o) => assertMerged(o, o.itemId, `${o.itemId} (from the cache or not)`));
  // 1 miss, 1 hit, 2 miss, 3 miss (evicts 1: two entries at most), 1 miss (evicts 2), 3 hit, 2 miss
  assert.equal(http.requests.map((r) => idIn(r)), [1, 2, 3, 1, 2].map(idOf));
});

test('cache: an entry expires after ttl-ms; the key includes method and body', async () => {
  const http = await server((r) => ({ ...documents(r), delayMs: idIn(r) === idOf(2) ? 700 : 0 }));
  const svc = service();
  const config = conf([enrich(svc.name, `${http.base}/documents/{id}`, 'cache { ttl-ms = 400, max-entries = 100 }')], [svc.hocon]);
  const result = await run(config, [1, 1, 2, 1].map((n) => ({ value: item(n), key: 'k' })));
  assert.equal(result.deadLetters, [], explain(result));
  assert.equal(http.requests.map((r) => idIn(r)), [1, 2, 1].map(idOf), 'the second 1 is cached; the last comes after the TTL');

  const posts = await server((r) => ({ json: documentFor((JSON.parse(r.body) as { id: string }).id) }));
  const svc2 = service();
  const config2 = conf(
    [enrich(svc2.name, `${posts.base}/lookup`, 'method = POST\n    body = """{"id": {id}, "version": {version}}"""\n    cache { ttl-ms = 60000, max-entries = 100 }')],
    [svc2.hocon],
  );
  const result2 = await run(config2, [1, 1, 2].map((version) => ({ value: item(1, { version }), key: 'k' })));
  assert.equal(result2.deadLetters, [], explain(result2));
  assert.is(result2.outputs.length, 3);
  assert.equal(posts.requests.map((r) => (JSON.parse(r.body) as { version: number }).version), [1, 2], 'same URL, different body: another entry');
});

test('cache: records missing the cache for the same request at once share one call; a failed call is shared, not cached', async () => {
  let failing = true;
  const http = await server((r) => (failing ? { status: 400 } : { ...documents(r), delayMs: 50 }));
  const svc = service();
  const config = conf([enrich(svc.name, `${http.base}/documents/{id}`, 'cache { ttl-ms = 60000, max-entries = 100 }')], [svc.hocon]);
  const inputs = Array.from({ length: 60 }, (_, i) => ({ value: item(i % 3) })); // no keys: all at once
  const failed = await run(config, inputs);
  assert.is(failed.deadLetters.length, 60, explain(failed));
  assert.ok(failed.deadLetters.every((d) => d.reason === 'E_HTTP_STATUS'));
  assert.is(http.requests.length, 3, 'one call per id');
  failing = false;
  const result = await run(config, inputs);
  assert.equal(result.deadLetters, [], explain(result));
  outs(result).forEach((o) => assertMerged(o, o.itemId));
  assert.is(http.requests.length, 6, 'the failures were not cached: one more call per id, shared again');
});

// ---------------------------------------------------------------------------------------------
// 7. bulkhead

test('bulkhead: max-concurrency = 4 -> never more than 4 requests in flight, the rest queue (also across stages of one service)', async () => {
  const http = await server((r) => ({ ...documents(r), delayMs: 30 }));
  const svc = service({ maxConcurrency: 4 });
  const n = 40;
  const inputs = Array.from({ length: n }, (_, i) => ({ value: item(i + 1) }));
  const result = await run(conf([enrich(svc.name, `${http.base}/documents/{id}`)], [svc.hocon]), inputs);
  assert.equal(result.deadLetters, [], explain(result));
  assert.is(result.outputs.length, n, 'calls beyond the limit queue, they do not fail');
  assert.is(http.maxConcurrent, 4, `max requests in flight: ${http.maxConcurrent}`);

  const shared = await server((r) => ({ ...documents(r), delayMs: 30 }));
  const svc2 = service({ maxConcurrency: 4 });
  const config2 = conf(
    [
      enrich(svc2.name, `${shared.base}/documents/{id}`, 'merge { category = category }', 'first'),
      enrich(svc2.name, `${shared.base}/documents/{id}`, 'merge { thumbnail_url = "images.thumb" }', 'second'),
    ],
    [svc2.hocon],
  );
  const result2 = await run(config2, inputs);
  assert.equal(result2.deadLetters, [], explain(result2));
  assert.is(result2.outputs.length, n);
  assert.is(shared.requests.length, 2 * n);
  assert.ok(shared.maxConcurrent <= 4, `two stages of one service share its bulkhead: max ${shared.maxConcurrent} in flight`);
});

// ---------------------------------------------------------------------------------------------
// 8. no message lost or duplicated

test('no message lost or duplicated: 1,000 records, random 500s, 503s and resets, retries', async () => {
  const random = prng(8);
  const http = await server((r) => {
    const x = random();
    if (x < 0.15) return { status: 500 };
    if (x < 0.2) return { status: 503, delayMs: 5 };
    if (x < 0.3) return { reset: true };
    return { ...documents(r), delayMs: Math.floor(random() * 4) };
  });
  const svc = service({ attempts: 3, initialMs: 1, maxDelayMs: 5 });
  const n = 1000;
  const inputs = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? { value: item(i + 1) } : { value: item(i + 1), key: `k${i % 25}` }));
  const result = await run(conf([enrich(svc.name, `${http.base}/documents/{id}`)], [svc.hocon]), inputs, 30_000);
  const seen = new Map<string, number>();
  for (const o of outs(result)) seen.set(o.itemId, (seen.get(o.itemId) ?? 0) + 1);
  for (const d of result.deadLetters) {
    const id = /cnt-\d{6}/.exec(Buffer.from(d.value).toString())![0];
    assert.is(id, idOf(d.input + 1), 'a dead letter carries its own input');
    assert.is(d.reason, 'E_HTTP_UNAVAILABLE');
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  assert.is(result.outputs.length + result.deadLetters.length, n, `outputs ${result.outputs.length} + dead letters ${result.deadLetters.length}`);
  const wrong = inputs.map((_, i) => idOf(i + 1)).filter((id) => seen.get(id) !== 1);
  assert.equal(wrong, [], 'each input exactly once');
  outs(result).forEach((o) => assertMerged(o, o.itemId, `${o.itemId} got its own response`));
  const order = outs(result).map((o) => o.itemId);
  assert.equal(order, [...order].sort(), 'outputs in input order');
  assert.ok(result.outputs.length > 900, `retries recover most failures: ${result.outputs.length} written`);
  assert.is(result.summary.read, n);
  assert.is(result.summary.written, result.outputs.length);
  assert.is(result.summary.deadLettered, result.deadLetters.length);
});

// ---------------------------------------------------------------------------------------------
// 9. deadline

test('deadline-ms: with a slow service, records fail with E_DEADLINE instead of waiting', async () => {
  const http = await server((r) => ({ ...documents(r), delayMs: 3000 }));
  const svc = service({ timeoutMs: 5000, maxConcurrency: 2, attempts: 3, initialMs: 5, maxDelayMs: 20 });
  const config = conf([enrich(svc.name, `${http.base}/documents/{id}`)], [svc.hocon], 'flows.content.deadline-ms = 300');
  const n = 10;
  const lag = loopLag();
  const result = await run(config, Array.from({ length: n }, (_, i) => ({ value: item(i + 1) })));
  const late = lag();
  // the flow's own time: from when the records arrived (after the local lookup worker started)
  const elapsed = result.summary.seconds * 1000;
  assert.is(result.outputs.length, 0, explain(result));
  assert.is(result.deadLetters.length, n, explain(result));
  assert.ok(elapsed < 1300 + late, `the run ends about deadline-ms after the records arrived, not after the service answers: ${elapsed.toFixed(0)} ms`);
  const sent = new Set(http.requests.map(idIn));
  assert.ok(http.requests.length >= 1, 'a record within its budget is sent');
  assert.ok(http.requests.length <= 2, `records past their deadline are not sent (they waited for the bulkhead of 2): ${http.requests.length} requests`);
  for (const d of result.deadLetters) {
    assert.is(d.stage, 'content.doc');
    if (!sent.has(idOf(d.input + 1))) assert.is(d.reason, 'E_DEADLINE', `record ${d.input} (never sent)`);
    else assert.ok(['E_DEADLINE', 'E_HTTP_UNAVAILABLE'].includes(d.reason), `record ${d.input} (sent, cut at its remaining budget): ${d.reason}`);
  }
  await until(1000, 'the server sees every call end (answered or aborted)', () => http.requests.every((r) => r.end !== undefined));
  for (const r of http.requests) {
    const held = r.end! - r.start;
    assert.ok(held < 300 + 200 + late, `a call gets at most the remaining budget as its timeout: held ${held.toFixed(0)} ms`);
  }
});

test('deadline-ms: no retry past the budget; records that waited for their key past it are not sent; on-failure applies (skip-stage)', async () => {
  const http = await server((r) => ({ ...documents(r), delayMs: 3000 }));
  const svc = service({ timeoutMs: 5000, attempts: 3, initialMs: 5, maxDelayMs: 20 });
  const config = conf([enrich(svc.name, `${http.base}/documents/{id}`, 'on-failure = skip-stage')], [svc.hocon], 'flows.content.deadline-ms = 250');
  // one key: record 0 spends the budget of all four
  const lag = loopLag();
  const result = await run(config, Array.from({ length: 4 }, (_, i) => ({ value: item(i + 1), key: 'k' })));
  const ended = performance.now();
  const late = lag();
  assert.equal(result.deadLetters, [], explain(result));
  assert.equal(outs(result).map((o) => [o.itemId, o.category]), [1, 2, 3, 4].map((n) => [idOf(n), undefined]));
  assert.equal(http.requests.map(idIn), [idOf(1)], 'record 0 is sent once (its retries would be past the budget), the others not at all');
  assert.ok(ended - http.requests[0]!.start < 250 + 150 + late, `the call ends with the budget: ${(ended - http.requests[0]!.start).toFixed(0)} ms after it started`);
});

// ---------------------------------------------------------------------------------------------
// 10. one flow's dead service does not slow another flow (the CLI, both flows in one process)

/** dist/ must be built from the current sources: `npm run build:ts`. */
function staleBuild(): string[] {
  const stale: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const built = join(packageRoot, 'dist', relative(packageRoot, path)).replace(/\.ts$/, '.js');
        if (!existsSync(built) || statSync(built).mtimeMs < statSync(path).mtimeMs) stale.push(relative(packageRoot, path));
      }
    }
  };
  walk(join(packageRoot, 'src'));
  return stale;
}

function sluice(args: string[], timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLUICE_') && k !== 'KAFKA_BROKERS'));
  return new Promise((resolve, reject) => {
    // asynchronous: the services are served by this process
    const child = spawn(process.execPath, [join(packageRoot, 'dist', 'src', 'cli.js'), ...args], { cwd: packageRoot, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sluice ${args.join(' ')}: not finished within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

test('sluice run: a healthy flow keeps its latency while another flow\'s service is down', async () => {
  const stale = staleBuild();
  assert.equal(stale, [], 'dist/ is older than these sources: run npm run build:ts');
  const healthy = await server((r) => ({ ...documents(r), delayMs: 2 }));
  const down = await server(() => ({ hang: true }));
  const good = service();
  // a flow stuck behind the dead service would wait at least timeout-ms = 1000 per attempt
  const bad = service({ timeoutMs: 1000, attempts: 2, initialMs: 10, maxDelayMs: 50, failures: 3, halfOpenMs: 60_000 });
  const n = 100;
  const nDown = 300;
  const caseDir = mkdtempSync(join(dir, 'cli-'));
  writeFileSync(join(caseDir, 'healthy.ndjson'), `${Array.from({ length: n }, (_, i) => item(i + 1)).join('\n')}\n`);
  writeFileSync(join(caseDir, 'down.ndjson'), `${Array.from({ length: nDown }, (_, i) => item(i + 1)).join('\n')}\n`);
  const config = join(caseDir, 'two-flows.conf');
  writeFileSync(
    config,
    `include "${local}"
log { level = warn, destination = "${join(caseDir, 'sluice.log')}" }
progress = off
${good.hocon}
${bad.hocon}
flows.campaign.enabled = false
flows.content {
  source { kind = file, path = "${join(caseDir, 'healthy.ndjson')}" }
  sink { kind = file, path = "${join(caseDir, 'healthy.out.ndjson')}", encoding = json }
  dead-letter { kind = file, path = "${join(caseDir, 'healthy.dlq.ndjson')}" }
  stages = [
    ${MAP}
    ${enrich(good.name, `${healthy.base}/documents/{id}`)}
  ]
}
flows.content-down {
  rules-file = "${rulesFile}"
  source { kind = file, path = "${join(caseDir, 'down.ndjson')}" }
  sink { kind = file, path = "${join(caseDir, 'down.out.ndjson')}", encoding = json }
  dead-letter { kind = file, path = "${join(caseDir, 'down.dlq.ndjson')}" }
  stages = [
    ${MAP}
    ${enrich(bad.name, `${down.base}/documents/{id}`)}
  ]
}
`,
  );
  const summaryFile = join(caseDir, 'summary.json');
  const result = await sluice(['run', '--config', config, '--summary-json', summaryFile], 30_000);
  assert.is(result.status, 0, `exit ${result.status}\n${result.stdout}\n${result.stderr}`);
  const summaries = JSON.parse(readFileSync(summaryFile, 'utf8')) as { flow: string; read: number; written: number; deadLettered: number; failedByReason: Record<string, number>; latencyMs: { p99: number } }[];
  const ok = summaries.find((s) => s.flow === 'content')!;
  const dead = summaries.find((s) => s.flow === 'content-down')!;
  assert.ok(ok && dead, JSON.stringify(summaries));
  assert.is(ok.read, n);
  assert.is(ok.written, n, JSON.stringify(ok));
  assert.ok(ok.latencyMs.p99 < 1000, `the healthy flow's p99 latency: ${ok.latencyMs.p99} ms`);
  const lastHealthy = Math.max(...healthy.requests.map((r) => r.end!));
  assert.ok(lastHealthy < down.requests[0]!.start + 1000, 'the healthy flow was done before the dead service\'s first timeout');
  assert.is(dead.read, nDown);
  assert.is(dead.written, 0);
  assert.is(dead.deadLettered, nDown, JSON.stringify(dead));
  const letters = readFileSync(join(caseDir, 'down.dlq.ndjson'), 'utf8').split('\n').filter((l) => l !== '');
  assert.is(letters.length, nDown);
  const reasons = new Set(letters.map((l) => (JSON.parse(l) as { headers: Record<string, string> }).headers['sluice.reason']));
  for (const reason of reasons) assert.ok(reason === 'E_HTTP_UNAVAILABLE' || reason === 'E_CIRCUIT_OPEN', `dead letter reason ${reason}`);
  const written = readFileSync(join(caseDir, 'healthy.out.ndjson'), 'utf8').split('\n').filter((l) => l !== '');
  assert.is(written.length, n);
  assertMerged(JSON.parse(written[0]!) as Item, idOf(1));
});

// ---------------------------------------------------------------------------------------------
// 11. local mode

test('batch: the distinct keys of the records go in requests of up to max-keys; each record takes its row; a key without a row follows on-not-found; config mistakes are refused', async () => {
  const missing = new Set([idOf(3), idOf(7)]);
  const http = await server((r) => {
    if (r.method !== 'POST' || r.path !== '/documents/_batch') return { status: 404, json: { error: 'not found' } };
    const keys = (JSON.parse(r.body) as { ids: string[] }).ids;
    return { json: { rows: keys.filter((k) => !missing.has(k)).map((k) => documentFor(k)) } };
  });
  const svc = service();
  const batch = `batch { max-keys = 4, url = "${http.base}/documents/_batch", body = "{\\"ids\\":{keys}}", rows = rows, response-key = id }`;
  const config = conf([enrich(svc.name, `${http.base}/documents/{id}`, `${batch}\n    on-not-found = drop`)], [svc.hocon, `services.${svc.name}.batch-lookups = true`]);
  // 10 distinct ids, 3 of them twice (a key's records run one after the other: its second record
  // is asked for after the first's answer)
  const ids = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2, 3];
  const result = await run(config, ids.map((n) => ({ value: item(n), key: `k-${n}` })));
  const found = ids.filter((n) => !missing.has(idOf(n)));
  assert.equal(outs(result).map((o) => o.itemId), found.map(idOf), explain(result));
  for (const o of outs(result)) assertMerged(o, o.itemId);
  assert.is(result.summary.dropped, 3, 'cnt-000003 twice and cnt-000007: no row, on-not-found = drop');
  const sent = http.requests.map((r) => (JSON.parse(r.body) as { ids: string[] }).ids);
  for (const keys of sent) {
    assert.ok(keys.length <= 4, `at most max-keys per request: ${keys.join(' ')}`);
    assert.is(new Set(keys).size, keys.length, 'distinct keys');
  }
  assert.equal(new Set(sent.flat().slice(0, 10)), new Set(ids.slice(0, 10).map(idOf)), 'every first key once, in the first requests');
  assert.is(sent.slice(0, 3).flat().length, 10, '10 distinct keys in 3 requests');
  assert.ok(http.requests.every((r) => r.headers['content-type'] === 'application/json'));

  const refused = async (extra: string): Promise<string[]> => {
    try {
      await runFlow(conf([enrich(svc.name, `${http.base}/documents/{id}`, extra)], [svc.hocon]), 'content', []);
    } catch (error) {
      return ((error as { problems?: { path: string }[] }).problems ?? []).map((p) => p.path);
    }
    return [];
  };
  assert.ok((await refused(`batch { url = "${http.base}/documents/{id}", response-key = id }`)).some((p) => p.endsWith('batch.url')), 'a placeholder in the bulk url');
  assert.ok((await refused(`batch { url = "${http.base}/documents/_batch", body = "[]", response-key = id }`)).some((p) => p.endsWith('batch.body')), 'a body without {keys}');
  assert.ok((await refused(`batch { url = "${http.base}/documents/_batch", key = nope, response-key = id }`)).some((p) => p.endsWith('batch.key')), 'a key field the rules lack');
  // a service without batch-lookups is called per record, batch block or not
  const before = http.requests.length;
  const perRecord = await run(conf([enrich(svc.name, `${http.base}/documents/{id}`, batch)], [svc.hocon]), [{ value: item(1) }]);
  assert.is(perRecord.deadLetters[0]?.reason, 'E_LOOKUP_MISS', 'GET /documents/<id> is not served by this server');
  assert.equal(http.requests.slice(before).map((r) => [r.method, r.path]), [['GET', `/documents/${idOf(1)}`]]);
});

test('batch: the built-in lookup server answers the bulk form (POST <route with _batch for the key>)', async () => {
  const svc = service();
  const config = conf(
    // no route answers GET /nothing/<id>: only the bulk form finds the rows
    [enrich(svc.name, '/nothing/{id}', 'batch { url = "/documents/_batch", response-key = id }\n    merge { category = category, thumbnail_url = thumbnailUrl }')],
    // no batch-lookups: the built-in server has the bulk form, so a service it plays uses it
    [svc.hocon, `services.${svc.name}.local-service = lookup`],
  );
  const lookup = join(packageRoot, 'samples', 'lookup', 'content-documents.ndjson');
  const rows = new Map(readFileSync(lookup, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { id: string; category: string }).map((r) => [r.id, r]));
  const result = await run(config, [4, 6, 999_999, 8].map((n) => ({ value: item(n) })));
  assert.equal(letterSummary(result), [[2, 'E_LOOKUP_MISS', 'content.doc']], explain(result));
  assert.equal(outs(result).map((o) => [o.itemId, o.category]), [4, 6, 8].map((n) => [idOf(n), rows.get(idOf(n))!.category]));
  assert.is(result.summary.failedByReason.E_LOOKUP_MISS, 1);
});

test('local-services: runFlow starts the built-in lookup server; a missing id is E_LOOKUP_MISS; the port is released', async () => {
  const port = await freePort();
  const lookup = join(packageRoot, 'samples', 'lookup', 'content-documents.ndjson');
  const rows = new Map(
    readFileSync(lookup, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { id: string; category: string; thumbnailUrl: string })
      .map((r) => [r.id, r]),
  );
  assert.not.ok(rows.has('cnt-999999'));
  const svc = service();
  const config = conf(
    [enrich(svc.name, `http://127.0.0.1:${port}/documents/{id}`, 'merge { category = category, thumbnail_url = thumbnailUrl }')],
    [svc.hocon],
    `local-services.lookup {
  port = ${port}
  delay-ms = 60
  routes {
    "/documents/{id}" = { file = "${lookup}", key = id }
    "/placements/{placementId}" = { file = "${join(packageRoot, 'samples', 'lookup', 'placements.ndjson')}", key = placementId }
  }
}`,
  );
  const inputs = [4, 6, 999_999, 8].map((n) => ({ value: item(n), key: 'one-key' }));
  const started = performance.now();
  const result = await run(config, inputs);
  const elapsed = performance.now() - started;
  assert.equal(letterSummary(result), [[2, 'E_LOOKUP_MISS', 'content.doc']], explain(result));
  assert.equal(
    outs(result).map((o) => [o.itemId, o.category, o.thumbnailUrl]),
    [4, 6, 8].map((n) => [idOf(n), rows.get(idOf(n))!.category, rows.get(idOf(n))!.thumbnailUrl]),
  );
  assert.ok(elapsed >= 4 * 60 - 10, `delay-ms = 60 per request, 4 requests one after the other: ${elapsed.toFixed(0)} ms`);
  assert.not.ok(await listening(port), 'the built-in server is stopped after the run');
  const again = await run(config, inputs.slice(0, 1));
  assert.is(again.outputs.length, 1, 'a second run can start it on the same port');
});

test.run();
