// Verdict codes out of the core. The core never throws or traps: every failure is one of these,
// and src/core/codes.ts turns them into names and messages (keep both lists in the same order).

export const OK: i32 = 0;

// Well-formedness (RFC 8259 over raw UTF-8). These win over rule failures.
export const E_EMPTY: i32 = 1;
export const E_UTF8: i32 = 2;
export const E_TOKEN: i32 = 3;
export const E_NUMBER: i32 = 4;
export const E_CONTROL: i32 = 5;
export const E_ESCAPE: i32 = 6;
export const E_UNTERMINATED: i32 = 7;
export const E_TRAILING: i32 = 8;
export const E_DEPTH: i32 = 9;
export const E_SIZE: i32 = 10;
export const E_DUPLICATE_KEY: i32 = 11;

// Rule failures (JSON Schema keywords); the first found in document order is reported.
export const E_TYPE: i32 = 12;
export const E_REQUIRED: i32 = 13;
export const E_ADDITIONAL: i32 = 14;
export const E_ENUM: i32 = 15;
export const E_CONST: i32 = 16;
export const E_MIN_LENGTH: i32 = 17;
export const E_MAX_LENGTH: i32 = 18;
export const E_PATTERN: i32 = 19;
export const E_MINIMUM: i32 = 20;
export const E_MAXIMUM: i32 = 21;
export const E_EXCLUSIVE_MINIMUM: i32 = 22;
export const E_EXCLUSIVE_MAXIMUM: i32 = 23;
export const E_MIN_ITEMS: i32 = 24;
export const E_MAX_ITEMS: i32 = 25;
export const E_FALSE_SCHEMA: i32 = 26;
export const E_ANY_OF: i32 = 27;
export const E_ONE_OF: i32 = 28;
export const E_NOT: i32 = 29;
export const E_DEPENDENT_REQUIRED: i32 = 30;
export const E_MIN_PROPERTIES: i32 = 31;
export const E_MAX_PROPERTIES: i32 = 32;
export const E_UNIQUE_ITEMS: i32 = 33;
export const E_CONTAINS: i32 = 34;
export const E_MULTIPLE_OF: i32 = 35;
export const E_FORMAT: i32 = 36;
export const E_UNEVALUATED: i32 = 37;

export const CODE_COUNT: i32 = 38;
