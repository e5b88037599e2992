// The core benchmark corpus: several MB of distinct messages per flow, derived deterministically
// from the samples — valid lines re-serialised with fresh ids, shuffled key order, minified or
// pretty, escapes and non-ASCII kept; the samples' invalid lines (every failure kind) kept as-is,
// so 5–10 % of the corpus is invalid. The well-formed variant of each (`<flow>/well-formed`) keeps
// only the invalid lines JSON.parse accepts: no syntax error, the same share of rule failures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { prng as random } from '../scripts/support/random.ts';
import { packageRoot } from '../src/package-root.ts';

export interface Corpus {
  readonly flow: string;
  readonly schema: Record<string, unknown>;
  /** The fields the flow's stages read: what the core extracts. */
  readonly extract: string[];
  readonly messages: Uint8Array[];
  readonly bytes: number;
}

/**
 * The campaign rules restated with the keywords real teams' schemas use (shared `$defs` through
 * `$ref`, `if`/`then`, `oneOf`, `format`, `patternProperties`, `uniqueItems`), accepting the
 * same events: the corpus of the core's tape evaluation, run on the campaign messages.
 */
export const CAMPAIGN_KEYWORDS_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $defs: {
    id: { type: 'string', format: 'uuid', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' },
    code: { type: 'string', pattern: '^[A-Z]{3}$' },
    millis: { type: 'integer', minimum: 1500000000000, maximum: 4102444800000 },
    device: {
      type: 'object',
      required: ['os'],
      properties: { os: { enum: ['ios', 'android', 'web'] }, appVersion: { type: 'string', maxLength: 32 } },
      patternProperties: { '^x-': { type: 'string' } },
    },
  },
  type: 'object',
  required: ['eventId', 'type', 'campaignId', 'placementId', 'userId', 'occurredAt'],
  properties: {
    eventId: { $ref: '#/$defs/id' },
    type: { enum: ['impression', 'click', 'conversion', 'heartbeat'] },
    campaignId: { type: 'string', pattern: '^cmp-[0-9]{4}$' },
    placementId: { type: 'string', pattern: '^plc-[0-9]{3}$' },
    userId: { type: 'string', minLength: 3, maxLength: 64 },
    occurredAt: { $ref: '#/$defs/millis' },
    value: { type: 'number', exclusiveMinimum: 0, maximum: 100000 },
    currency: { $ref: '#/$defs/code' },
    itemId: { type: 'string', pattern: '^cnt-[0-9]{6}$' },
    device: { $ref: '#/$defs/device' },
    consent: { type: 'boolean' },
    schemaVersion: { const: 2 },
    tags: { type: 'array', items: { type: 'string' }, uniqueItems: true },
  },
  if: { properties: { type: { const: 'conversion' } }, required: ['type'] },
  then: { properties: { value: { oneOf: [{ type: 'integer' }, { type: 'number', multipleOf: 0.01 }, { type: 'number' }] } } },
} as const;

const EXTRACT: Record<string, string[]> = {
  content: ['/status', '/id', '/type', '/title', '/summary', '/language', '/publishedAt', '/durationSec', '/version', '/tags', '/author/id', '/rating'],
  campaign: ['/type', '/eventId', '/campaignId', '/placementId', '/userId', '/occurredAt', '/value', '/currency', '/itemId', '/device/os', '/consent'],
};
EXTRACT['campaign-keywords'] = EXTRACT.campaign!;


function shuffled(value: unknown, next: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffled(v, next));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, shuffled(v, next)]));
}

function splitLines(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, start)) {
    out.push(bytes.subarray(start, i));
    start = i + 1;
  }
  return out;
}

/** The suffix of a flow's well-formed-only corpus. */
export const WELL_FORMED = '/well-formed';

/** Failures a well-formed corpus leaves out: JSON.parse accepts them, but they are limits or the core's strictness, not rules. */
const NOT_RULES = new Set(['E_DUPLICATE_KEY', 'E_DEPTH', 'E_SIZE']);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function wellFormed(line: Buffer): boolean {
  try {
    JSON.parse(strictUtf8.decode(line));
    return true;
  } catch {
    return false;
  }
}

/**
 * `targetBytes` of distinct messages for `flow`: content, campaign, or campaign-keywords (the
 * campaign messages under CAMPAIGN_KEYWORDS_SCHEMA); with the WELL_FORMED suffix, only messages
 * JSON.parse accepts (the rule failures among the samples' invalid lines as the invalid share).
 */
export function buildCorpus(name: string, targetBytes = 8 << 20): Corpus {
  const onlyWellFormed = name.endsWith(WELL_FORMED);
  const flow = onlyWellFormed ? name.slice(0, -WELL_FORMED.length) : name;
  const keywords = flow === 'campaign-keywords';
  const source = keywords ? 'campaign' : flow;
  const schema = keywords
    ? (CAMPAIGN_KEYWORDS_SCHEMA as unknown as Record<string, unknown>)
    : (JSON.parse(readFileSync(join(packageRoot, 'config', 'rules', `${flow}.schema.json`), 'utf8')) as Record<string, unknown>);
  const raw = splitLines(readFileSync(join(packageRoot, 'samples', `${source}.ndjson`)));
  const expected = readFileSync(join(packageRoot, 'samples', `${source}.expected.ndjson`), 'utf8').split('\n');
  const valid: unknown[] = [];
  const invalid: Buffer[] = [];
  raw.forEach((line, i) => {
    if (line.length > 64 * 1024) return; // the two E_SIZE lines would dominate the byte count
    const outcome = JSON.parse(expected[i]!) as { ok: boolean; reason?: string };
    if (outcome.ok || outcome.reason === 'E_LOOKUP_MISS') valid.push(JSON.parse(line.toString('utf8')));
    else if (!onlyWellFormed || (wellFormed(line) && !NOT_RULES.has(outcome.reason ?? ''))) invalid.push(line);
  });
  const next = random(flow === 'content' ? 1 : keywords ? 3 : 2);
  const encoder = new TextEncoder();
  const messages: Uint8Array[] = [];
  let bytes = 0;
  let serial = 0;
  while (bytes < targetBytes) {
    let message: Uint8Array;
    if (next() < 0.07) message = invalid[Math.floor(next() * invalid.length)]!;
    else {
      const base = valid[Math.floor(next() * valid.length)] as Record<string, unknown>;
      const copy = shuffled(base, next) as Record<string, unknown>;
      serial++;
      // fresh ids keep every message distinct without changing validity
      if (flow === 'content') copy.version = serial;
      else copy.userId = `u-${serial.toString(36)}-${String(copy.userId ?? '').slice(0, 20)}`;
      message = encoder.encode(next() < 0.2 ? JSON.stringify(copy, null, 2) : JSON.stringify(copy));
    }
    messages.push(message);
    bytes += message.length;
  }
  return { flow: name, schema, extract: EXTRACT[flow]!, messages, bytes };
}
