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

/** Markdown reference of every source, stage, sink and table: keys, types, defaults, descriptions. */
export function componentDocs(): string {
  const out: string[] = [];
  const groups = [['Sources', registry.sources], ['Stages', registry.stages], ['Sinks', registry.sinks], ['Tables', registry.tables]] as const;
  for (const [title, specs] of groups) {
    out.push(`## ${title}`, '');
    for (const spec of Object.values(specs)) {
      const schema = z.toJSONSchema(spec.config, { io: 'input', unrepresentable: 'any' }) as JsonSchemaDoc;
      out.push(`### ${spec.kind}`, '', spec.summary, '', '| key | type | default | description |', '|---|---|---|---|');
      for (const [key, property] of Object.entries(schema.properties ?? {})) {
        const required = schema.required?.includes(key) ? ' (required)' : '';
        const fallback = property.default === undefined ? '' : JSON.stringify(property.default);
        out.push(`| \`${key}\`${required} | ${typeOf(property).replace(/\|/g, '\\|')} | ${fallback} | ${property.description ?? ''} |`);
      }
      out.push('', 'Example:', '', '```json', JSON.stringify({ kind: spec.kind, ...spec.examples[0] }), '```', '');
    }
  }
  return out.join('\n');
}
