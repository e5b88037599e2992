// Component reference generated from the specs in the registry: what `sluice components` prints.
import { z } from 'zod';
import * as registry from './registry.ts';

interface JsonSchemaDoc {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchemaDoc>;
  required?: string[];
  anyOf?: JsonSchemaDoc[];
}

function typeOf(schema: JsonSchemaDoc): string {
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(' | ');
  if (Array.isArray(schema.type)) return schema.type.join(' | ');
  return schema.type ?? 'any';
}

interface KindDoc {
  readonly kind: string;
  readonly summary: string;
  readonly keys: readonly { key: string; required: boolean; type: string; fallback: string; description: string }[];
  readonly example: string;
}

/** Every source, stage, sink and table kind as its spec describes it, by group. */
function kindDocs(): [string, KindDoc[]][] {
  const groups = [['Sources', registry.sources], ['Stages', registry.stages], ['Sinks', registry.sinks], ['Tables', registry.tables]] as const;
  return groups.map(([title, specs]) => [
    title,
    Object.values(specs).map((spec) => {
      const schema = z.toJSONSchema(spec.config, { io: 'input', unrepresentable: 'any' }) as JsonSchemaDoc;
      const keys = Object.entries(schema.properties ?? {}).map(([key, property]) => ({
        key,
        required: schema.required?.includes(key) ?? false,
        type: typeOf(property),
        fallback: property.default === undefined ? '' : JSON.stringify(property.default),
        description: property.description ?? '',
      }));
      return { kind: spec.kind, summary: spec.summary, keys, example: JSON.stringify({ kind: spec.kind, ...spec.examples[0] }) };
    }),
  ]);
}

/** Markdown reference of every source, stage, sink and table: keys, types, defaults, descriptions. */
export function componentDocs(): string {
  const out: string[] = [];
  for (const [title, kinds] of kindDocs()) {
    out.push(`## ${title}`, '');
    for (const doc of kinds) {
      out.push(`### ${doc.kind}`, '', doc.summary, '', '| key | type | default | description |', '|---|---|---|---|');
      for (const k of doc.keys) {
        out.push(`| \`${k.key}\`${k.required ? ' (required)' : ''} | ${k.type.replace(/\|/g, '\\|')} | ${k.fallback} | ${k.description} |`);
      }
      out.push('', 'Example:', '', '```json', doc.example, '```', '');
    }
  }
  return out.join('\n');
}

/** The same reference for a terminal: plain text, each key on its line and its description under it, wrapped to `width`. */
export function componentText(width = 100): string {
  const wrap = (text: string, indent: string): string[] => {
    const lines: string[] = [];
    let line = '';
    for (const word of text.split(/\s+/).filter((w) => w !== '')) {
      if (line !== '' && indent.length + line.length + 1 + word.length > width) {
        lines.push(indent + line);
        line = word;
      } else line = line === '' ? word : `${line} ${word}`;
    }
    if (line !== '') lines.push(indent + line);
    return lines;
  };
  const out: string[] = [];
  for (const [title, kinds] of kindDocs()) {
    out.push(title.toUpperCase(), '');
    for (const doc of kinds) {
      out.push(`  ${doc.kind}`, ...wrap(doc.summary, '    '), '');
      for (const k of doc.keys) {
        out.push(`    ${k.key}${k.required ? ' (required)' : ''}: ${k.type}${k.fallback === '' ? '' : ` = ${k.fallback}`}`, ...wrap(k.description, '        '));
      }
      out.push('', `    example: ${doc.example}`, '');
    }
  }
  return out.join('\n');
}
