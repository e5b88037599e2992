// The JS side of the core: the few checks the core hands back (patterns outside its regex subset,
// numbers whose exact double it cannot compute cheaply) are decided here by ajv on JSON.parse of
// the same bytes. It only runs for messages the core found well-formed and flagged.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { JsonSchema } from './compile.ts';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class JsFallback {
  readonly #validate: ValidateFunction;

  constructor(schema: JsonSchema) {
    this.#validate = new Ajv({ strict: false, allErrors: false }).compile(schema);
  }

  /** ajv's first error for the message, or null when it is valid. */
  firstError(message: Uint8Array): ErrorObject | null {
    const ok = this.#validate(JSON.parse(decoder.decode(message)));
    return ok ? null : (this.#validate.errors?.[0] ?? null);
  }
}
