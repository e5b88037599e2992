// Names of the core's verdict codes, in the order of assembly/codes.ts (checked at load time).

export const CODE_NAMES = [
  'OK',
  'E_EMPTY',
  'E_UTF8',
  'E_TOKEN',
  'E_NUMBER',
  'E_CONTROL',
  'E_ESCAPE',
  'E_UNTERMINATED',
  'E_TRAILING',
  'E_DEPTH',
  'E_SIZE',
  'E_DUPLICATE_KEY',
  'E_TYPE',
  'E_REQUIRED',
  'E_ADDITIONAL',
  'E_ENUM',
  'E_CONST',
  'E_MIN_LENGTH',
  'E_MAX_LENGTH',
  'E_PATTERN',
  'E_MINIMUM',
  'E_MAXIMUM',
  'E_EXCLUSIVE_MINIMUM',
  'E_EXCLUSIVE_MAXIMUM',
  'E_MIN_ITEMS',
  'E_MAX_ITEMS',
  'E_FALSE_SCHEMA',
  'E_ANY_OF',
  'E_ONE_OF',
  'E_NOT',
  'E_DEPENDENT_REQUIRED',
  'E_MIN_PROPERTIES',
  'E_MAX_PROPERTIES',
  'E_UNIQUE_ITEMS',
  'E_CONTAINS',
  'E_MULTIPLE_OF',
  'E_FORMAT',
] as const;

export type VerdictCode = (typeof CODE_NAMES)[number];

/** First rule code: everything below it is a well-formedness failure. */
export const FIRST_RULE_CODE = CODE_NAMES.indexOf('E_TYPE');

export const SYNTAX_MESSAGES: Partial<Record<VerdictCode, string>> = {
  E_EMPTY: 'no JSON value in the message',
  E_UTF8: 'invalid UTF-8 byte sequence in a string',
  E_TOKEN: 'unexpected character',
  E_NUMBER: 'malformed number',
  E_CONTROL: 'unescaped control character in a string',
  E_ESCAPE: 'invalid escape sequence in a string',
  E_UNTERMINATED: 'unexpected end of input',
  E_TRAILING: 'unexpected data after the JSON value',
  E_DUPLICATE_KEY: 'duplicate key in an object',
};

/** The rule code of each ajv error keyword (the rules keep ajv's verdicts: see README, Rules). */
export const AJV_KEYWORD_CODES: Readonly<Record<string, VerdictCode>> = {
  type: 'E_TYPE',
  required: 'E_REQUIRED',
  additionalProperties: 'E_ADDITIONAL',
  enum: 'E_ENUM',
  const: 'E_CONST',
  minLength: 'E_MIN_LENGTH',
  maxLength: 'E_MAX_LENGTH',
  pattern: 'E_PATTERN',
  minimum: 'E_MINIMUM',
  maximum: 'E_MAXIMUM',
  exclusiveMinimum: 'E_EXCLUSIVE_MINIMUM',
  exclusiveMaximum: 'E_EXCLUSIVE_MAXIMUM',
  minItems: 'E_MIN_ITEMS',
  maxItems: 'E_MAX_ITEMS',
  'false schema': 'E_FALSE_SCHEMA',
  anyOf: 'E_ANY_OF',
  oneOf: 'E_ONE_OF',
  not: 'E_NOT',
  dependentRequired: 'E_DEPENDENT_REQUIRED',
  dependencies: 'E_DEPENDENT_REQUIRED',
  minProperties: 'E_MIN_PROPERTIES',
  maxProperties: 'E_MAX_PROPERTIES',
  uniqueItems: 'E_UNIQUE_ITEMS',
  contains: 'E_CONTAINS',
  minContains: 'E_CONTAINS',
  maxContains: 'E_CONTAINS',
  multipleOf: 'E_MULTIPLE_OF',
  format: 'E_FORMAT',
};

/** Messages of the rule codes whose wording needs nothing from the schema. */
export const RULE_MESSAGES: Partial<Record<VerdictCode, string>> = {
  E_ANY_OF: 'must match a schema in anyOf',
  E_ONE_OF: 'must match exactly one schema in oneOf',
  E_NOT: 'must NOT be valid against the schema in not',
  E_DEPENDENT_REQUIRED: 'must have the properties its present properties depend on',
  E_MIN_PROPERTIES: 'must NOT have fewer properties than minProperties',
  E_MAX_PROPERTIES: 'must NOT have more properties than maxProperties',
  E_UNIQUE_ITEMS: 'must NOT have duplicate items',
  E_CONTAINS: 'must contain the number of matching items contains asks for',
  E_MULTIPLE_OF: 'must be a multiple of multipleOf',
  E_FORMAT: 'must match the format',
};
