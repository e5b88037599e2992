// The drafts' own meta-schemas, so that rules may `$ref` one (a rule that checks a schema, as
// `"$ref": "https://json-schema.org/draft/2020-12/schema"`) with no network: the copies ajv ships
// and registers in its Ajv, Ajv2019 and Ajv2020 classes, loaded only when a rule refers to one.
import { createRequire } from 'node:module';
import type { Ajv, Options } from 'ajv';
import type { Draft, JsonSchema } from './rule-model.ts';

/** ajv's class for a draft, loaded at its first use: flows on the core never need ajv. */
export function ajvOf(draft: Draft): new (options?: Options) => Ajv {
  const require = createRequire(import.meta.url);
  if (draft === 'draft-07') return (require('ajv') as typeof import('ajv')).Ajv;
  if (draft === '2019-09') return (require('ajv/dist/2019.js') as typeof import('ajv/dist/2019.js')).Ajv2019;
  return (require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js')).Ajv2020;
}

const byDraft = new Map<Draft, Readonly<Record<string, JsonSchema>>>();

/** The meta-schema documents of a draft (its vocabularies' too, 2019-09 on), by URI. */
export function metaSchemas(draft: Draft): Readonly<Record<string, JsonSchema>> {
  let documents = byDraft.get(draft);
  if (documents === undefined) {
    const ajv = new (ajvOf(draft))();
    documents = Object.fromEntries(Object.entries(ajv.schemas).flatMap(([uri, env]) => (env ? [[uri, env.schema as JsonSchema]] : [])));
    byDraft.set(draft, documents);
  }
  return documents;
}

/** A `$ref` (or `$dynamicRef`, `$recursiveRef`) in a schema's JSON text that names json-schema.org. */
export const META_REFERENCE = /"\$(ref|dynamicRef|recursiveRef)":"https?:\/\/json-schema\.org\//;
