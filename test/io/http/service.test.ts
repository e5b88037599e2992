// The HTTP service on its own (io/http/service.ts), against a real HTTP server on 127.0.0.1: the
// answer of a call, which failures are retried and how often, Retry-After, per-attempt timeouts,
// the record's deadline, the bulkhead, the circuit breaker (open, then one probe), and failure
// messages that never carry the credentials sent. The enrich-http suite covers the stage above it.
import { pino } from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type HttpFailure, isHttpFailure, serviceConfig } from '../../../src/component/service.ts';
import { HttpService } from '../../../src/io/http/service.ts';
import { Metrics } from '../../../src/observe/metrics.ts';
import { type Handler, type HttpFixture, startFixture } from '../../stages/http-fixture.ts';

const fixtures: HttpFixture[] = [];
test.after.each(async () => {
  for (const f of fixtures.splice(0)) await f.close();
});

async function server(handler: Handler): Promise<HttpFixture> {
  const fixture = await startFixture(handler);
  fixtures.push(fixture);
  return fixture;
}

let services = 0;
/** A service with these settings (checked by the contract's schema, defaults filled in) and its metrics. */
function service(settings: Record<string, unknown>, base?: HttpFixture): { svc: HttpService; metrics: Metrics; name: string } {
  const metrics = new Metrics();
  const name = `svc-${++services}`;
  const config = serviceConfig.parse({ ...(base ? { 'base-url': base.base } : {}), ...settings });
  return { svc: new HttpService(name, config, pino({ level: 'silent' }), metrics.service(name), undefined), metrics, name };
}

/** The value of a service's metric line in the Prometheus text (0 when absent). */
async function metric(metrics: Metrics, line: RegExp): Promise<number> {
  const match = line.exec(await metrics.text());
  return match ? Number(match[1]) : 0;
}

async function failure(promise: Promise<unknown>): Promise<HttpFailure> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isHttpFailure(error), `an HttpFailure: ${String(error)}`);
    return error as HttpFailure;
  }
  return assert.unreachable('the call succeeded') as never;
}

const fast = { retry: { 'max-attempts': 3, 'initial-delay-ms': 1, 'max-delay-ms': 5 } };

test('a 2xx answer: status and parsed body; the method, headers and body are sent; a relative URL goes to base-url', async () => {
  const http = await server((r) => ({ status: 201, json: { got: r.body, path: r.path } }));
  const { svc } = service({}, http);
  assert.is(svc.resolve('/items/1'), `${http.base}/items/1`);
  assert.is(svc.resolve('http://elsewhere.test/x'), 'http://elsewhere.test/x', 'an absolute URL is left alone');
  const answer = await svc.call('POST', svc.resolve('/items/1'), { 'content-type': 'application/json', 'x-trace': 't-1' }, '{"a":1}');
  assert.equal(answer, { status: 201, body: { got: '{"a":1}', path: '/items/1' } });
  assert.is(http.requests.length, 1);
  assert.is(http.requests[0]!.method, 'POST');
  assert.is(http.requests[0]!.headers['x-trace'], 't-1');
});

test('404 is an answer (no body), not a failure, and is not retried', async () => {
  const http = await server(() => ({ status: 404 }));
  const { svc, metrics, name } = service(fast, http);
  assert.equal(await svc.call('GET', svc.resolve('/missing'), {}, undefined), { status: 404, body: undefined });
  assert.is(http.requests.length, 1);
  assert.is(await metric(metrics, new RegExp(`sluice_enrichment_calls_total\\{service="${name}",outcome="not_found"\\} (\\d+)`)), 1);
});

test('5xx and 429 are retried up to max-attempts, then E_HTTP_UNAVAILABLE; each retry is counted', async () => {
  const http = await server(() => ({ status: 503 }));
  const { svc, metrics, name } = service(fast, http);
  const failed = await failure(svc.call('GET', svc.resolve('/x'), {}, undefined));
  assert.is(failed.reason, 'E_HTTP_UNAVAILABLE');
  assert.is(http.requests.length, 3, 'three attempts in all');
  assert.is(await metric(metrics, new RegExp(`sluice_enrichment_retries_total\\{service="${name}"\\} (\\d+)`)), 2);
  assert.is(await metric(metrics, new RegExp(`sluice_enrichment_calls_total\\{service="${name}",outcome="unavailable"\\} (\\d+)`)), 1, 'one call, however many attempts');

  let n = 0;
  const flaky = await server(() => (++n <= 2 ? { status: n === 1 ? 429 : 500 } : { json: { ok: true } }));
  const second = service(fast, flaky);
  assert.equal(await second.svc.call('GET', second.svc.resolve('/y'), {}, undefined), { status: 200, body: { ok: true } }, 'a later attempt that succeeds is the answer');
  assert.is(flaky.requests.length, 3);
});

test('4xx (but 404 and 429) is E_HTTP_STATUS and a non-JSON 2xx is E_RESPONSE, neither retried', async () => {
  const http = await server((r) => (r.path === '/bad' ? { status: 400 } : { body: 'not json' }));
  const { svc } = service(fast, http);
  const status = await failure(svc.call('GET', svc.resolve('/bad'), {}, undefined));
  assert.is(status.reason, 'E_HTTP_STATUS');
  assert.match(status.message, /HTTP 400/);
  const response = await failure(svc.call('GET', svc.resolve('/text'), {}, undefined));
  assert.is(response.reason, 'E_RESPONSE');
  assert.equal(http.requests.map((r) => r.path), ['/bad', '/text'], 'one attempt each');
});

test('Retry-After is followed, capped by max-delay-ms', async () => {
  let n = 0;
  const http = await server(() => (++n === 1 ? { status: 429, headers: { 'retry-after': '30' } } : { json: {} }));
  const { svc } = service({ retry: { 'max-attempts': 2, 'initial-delay-ms': 1, 'max-delay-ms': 150 } }, http);
  await svc.call('GET', svc.resolve('/x'), {}, undefined);
  const gap = http.requests[1]!.start - http.requests[0]!.end!;
  assert.ok(gap >= 140, `waited for the capped Retry-After (150 ms), not the backoff of 1 ms: ${gap.toFixed(0)} ms`);
  assert.ok(gap < 5_000, `not the 30 s asked for: ${gap.toFixed(0)} ms`);
});

test('timeout-ms bounds each attempt: a service that never answers fails the call after max-attempts timeouts', async () => {
  const http = await server(() => ({ hang: true }));
  const { svc } = service({ 'timeout-ms': 100, retry: { 'max-attempts': 2, 'initial-delay-ms': 1, 'max-delay-ms': 5 } }, http);
  const started = performance.now();
  const failed = await failure(svc.call('GET', svc.resolve('/slow'), {}, undefined));
  const elapsed = performance.now() - started;
  assert.is(failed.reason, 'E_HTTP_UNAVAILABLE');
  assert.is(http.requests.length, 2, 'each timed-out attempt is retried up to max-attempts');
  assert.ok(elapsed >= 190, `two attempts of 100 ms: ${elapsed.toFixed(0)} ms`);
});

test('a deadline already spent: E_DEADLINE, nothing sent; a near one caps the attempt\'s timeout', async () => {
  const http = await server(() => ({ hang: true }));
  const { svc } = service({ 'timeout-ms': 10_000, retry: { 'max-attempts': 3, 'initial-delay-ms': 1, 'max-delay-ms': 5 } }, http);
  const spent = await failure(svc.call('GET', svc.resolve('/x'), {}, undefined, performance.now() - 1));
  assert.is(spent.reason, 'E_DEADLINE');
  assert.is(http.requests.length, 0);
  const started = performance.now();
  const cut = await failure(svc.call('GET', svc.resolve('/x'), {}, undefined, started + 150));
  const elapsed = performance.now() - started;
  assert.ok(['E_DEADLINE', 'E_HTTP_UNAVAILABLE'].includes(cut.reason), cut.reason);
  assert.ok(elapsed < 2_000, `the 150 ms budget, not the 10 s timeout, ended the call: ${elapsed.toFixed(0)} ms`);
  assert.is(http.requests.length, 1, 'no retry past the budget');
});

test('max-concurrency: calls beyond it wait for a place (bulkhead), none is refused', async () => {
  const http = await server(() => ({ json: {}, delayMs: 30 }));
  const { svc } = service({ 'max-concurrency': 2 }, http);
  const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => svc.call('GET', svc.resolve(`/c/${i}`), {}, undefined)));
  assert.is(answers.filter((a) => a.status === 200).length, 8);
  assert.is(http.maxConcurrent, 2);
});

test('circuit breaker: consecutive failed calls open it (E_CIRCUIT_OPEN, nothing sent); after half-open-after-ms one probe closes it', async () => {
  let healthy = false;
  const http = await server(() => (healthy ? { json: { ok: true } } : { status: 500 }));
  const { svc, metrics, name } = service({ retry: { 'max-attempts': 1 }, 'circuit-breaker': { 'consecutive-failures': 2, 'half-open-after-ms': 200 } }, http);
  for (let i = 0; i < 2; i++) assert.is((await failure(svc.call('GET', svc.resolve('/x'), {}, undefined))).reason, 'E_HTTP_UNAVAILABLE');
  assert.is(svc.state, 'open');
  const opened = performance.now();
  assert.is((await failure(svc.call('GET', svc.resolve('/x'), {}, undefined))).reason, 'E_CIRCUIT_OPEN');
  assert.is(http.requests.length, 2, 'a call refused by the open breaker sends nothing');
  assert.is(await metric(metrics, new RegExp(`sluice_circuit_breaker_state\\{service="${name}"\\} (\\d+)`)), 2, 'the state gauge says open (2)');
  healthy = true;
  // refused until half-open-after-ms has passed; then the probe goes through and closes it
  const deadline = opened + 5_000;
  let answer;
  while (answer === undefined) {
    assert.ok(performance.now() < deadline, 'the breaker never let a probe through');
    try {
      answer = await svc.call('GET', svc.resolve('/x'), {}, undefined);
    } catch (error) {
      assert.is((error as HttpFailure).reason, 'E_CIRCUIT_OPEN');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  assert.ok(performance.now() - opened >= 190, 'no call before half-open-after-ms');
  assert.is(http.requests.length, 3, 'one probe');
  assert.is(svc.state, 'closed');
});

test('failure messages name the service and what failed, never the credentials sent in headers', async () => {
  const http = await server(() => ({ status: 503 }));
  const { svc } = service({ retry: { 'max-attempts': 1 } }, http);
  const credentials = { authorization: 'Bearer s3cr3t-t0ken', 'x-api-key': 'k3y-v4lue' };
  const failed = await failure(svc.call('GET', svc.resolve('/x'), credentials, undefined));
  assert.is(http.requests[0]!.headers.authorization, 'Bearer s3cr3t-t0ken', 'the credentials are sent');
  assert.is(failed.message, `${svc.name}: HTTP 503`);
  // a network error names the URL called
  const gone = await server(() => ({ json: {} }));
  await gone.close();
  const refused = await failure(svc.call('GET', `${gone.base}/y`, credentials, undefined));
  assert.match(refused.message, new RegExp(`^${svc.name}: GET http://127\\.0\\.0\\.1:${gone.port}/y: `));
  for (const text of [failed.message, refused.message, String((refused.cause as Error).message)]) assert.not.match(text, /s3cr3t|k3y-v4lue/);
});

test.run();
