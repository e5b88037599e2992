// The other JavaScript JSON Schema validators a user would try, as rows of the core benchmark:
// each compiled once on the flow's rules (the same draft as ajv's row: draft-07 without
// `$schema`, else the one named; formats asserted where the rules name a draft that has them
// asserted in the ajv row), then called on JSON.parse of each message.
import { Validator as CfworkerValidator } from '@cfworker/json-schema';
import { registerSchema, setShouldValidateFormat, validate } from '@hyperjump/json-schema/draft-2020-12';
import '@hyperjump/json-schema/draft-07';

export const CFWORKER_CASE = 'JSON.parse + @cfworker/json-schema';
export const HYPERJUMP_CASE = 'JSON.parse + @hyperjump/json-schema';

const DRAFT_07 = 'http://json-schema.org/draft-07/schema';

let registered = 0;

export interface JsValidators {
  /** A validation function per peer: true when the parsed value is valid. */
  readonly check: Record<string, (value: unknown) => boolean>;
  /** Sets hyperjump's format assertion (a process-wide setting) for these rules: call before a pass. */
  readonly activate: () => void;
}

export async function loadJsValidators(schema: Record<string, unknown>): Promise<JsValidators> {
  const draft07 = schema.$schema === undefined;
  const cfworker = new CfworkerValidator(schema as never, draft07 ? '7' : '2020-12', true);
  // as the ajv row: formats asserted for the rules that name 2020-12 (with ajv-formats there)
  const activate = () => setShouldValidateFormat(!draft07);
  activate();
  const uri = `https://sluice.invalid/bench/${++registered}.json`;
  registerSchema(schema as never, uri, draft07 ? DRAFT_07 : undefined);
  const hyperjump = await validate(uri);
  return {
    check: {
      [CFWORKER_CASE]: (value) => cfworker.validate(value as never).valid,
      [HYPERJUMP_CASE]: (value) => hyperjump(value as never).valid,
    },
    activate,
  };
}
