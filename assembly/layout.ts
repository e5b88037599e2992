// Memory layout shared with src/core/ (which writes the program and reads the verdicts).
//
// The arena, laid out by src/core/validator.ts above __heap_base, never moved once placed:
//
//   +-----------+---------+------------+------------+-----------+-------------+---------+----------...
//   | rule      | path    | seen-bit   | regex VM   | verdicts  | error paths | message | message
//   | program   | stack   | stack      | scratch    | (per msg) | (per batch) | table   | bytes (grows)
//   +-----------+---------+------------+------------+-----------+-------------+---------+----------...
//
// Rule program: schema nodes (NODE_SIZE bytes each), property tables, enum tables, regex programs
// and the UTF-8 bytes of property names / enum strings, all addressed absolutely.

// ---- schema node ----------------------------------------------------------------------------
export const NODE_SIZE: u32 = 104;
export const N_TYPE: u32 = 0; //        u32 type mask (T_*)
export const N_FLAGS: u32 = 4; //       u32 F_* bits
export const N_MIN_LENGTH: u32 = 8; //  u32
export const N_MAX_LENGTH: u32 = 12; // u32
export const N_MIN_ITEMS: u32 = 16; //  u32
export const N_MAX_ITEMS: u32 = 20; //  u32
export const N_ITEMS: u32 = 24; //      u32 node address for array elements
export const N_PROP_COUNT: u32 = 28; // u32
export const N_PROPS: u32 = 32; //      u32 address of PROP_SIZE entries
export const N_SEEN_WORDS: u32 = 36; // u32 ceil(propCount / 32)
export const N_PATTERN: u32 = 40; //    u32 address of a regex program
export const N_ENUM_COUNT: u32 = 44; // u32
export const N_ENUM: u32 = 48; //       u32 address of ENUM_SIZE entries
export const N_SLOT: u32 = 52; //       i32 extraction slot, -1 for none
export const N_MINIMUM: u32 = 56; //    f64
export const N_MAXIMUM: u32 = 64; //    f64
export const N_EXCL_MINIMUM: u32 = 72; // f64
export const N_EXCL_MAXIMUM: u32 = 80; // f64
export const N_INDEX_COUNT: u32 = 88; // u32 array elements with a node of their own (extraction by index)
export const N_INDEXES: u32 = 92; //     u32 address of INDEX_SIZE entries
export const N_EXT: u32 = 96; //         u32 address of the node's extension (tape mode), 0 for none
export const N_RESOURCE: u32 = 100; //   u32 schema resource number for the dynamic scope, 0 when unused

// ---- node extension: the keywords evaluated on the tape (assembly/scanner.ts, tape mode) --------
export const X_FLAGS: u32 = 0; //               u32 XF_*
export const X_ALL_COUNT: u32 = 4; //           allOf (and $ref): count, address of u32 node addresses
export const X_ALL: u32 = 8;
export const X_ANY_COUNT: u32 = 12;
export const X_ANY: u32 = 16;
export const X_ONE_COUNT: u32 = 20;
export const X_ONE: u32 = 24;
export const X_NOT: u32 = 28; //                node addresses, 0 for none
export const X_IF: u32 = 32;
export const X_THEN: u32 = 36;
export const X_ELSE: u32 = 40;
export const X_PATTERN_COUNT: u32 = 44; //      patternProperties: (regex program, node) pairs
export const X_PATTERNS: u32 = 48;
export const X_ADDITIONAL: u32 = 52; //         additionalProperties as a schema
export const X_PROPERTY_NAMES: u32 = 56;
export const X_DEP_REQUIRED_COUNT: u32 = 60; // (name, name length, count, address of (name, length) pairs)
export const X_DEP_REQUIRED: u32 = 64;
export const X_DEP_SCHEMA_COUNT: u32 = 68; //   (name, name length, node)
export const X_DEP_SCHEMAS: u32 = 72;
export const X_PREFIX_COUNT: u32 = 76; //       prefixItems (draft-07 and 2019-09: items as an array)
export const X_PREFIX: u32 = 80;
export const X_CONTAINS: u32 = 84;
export const X_MIN_CONTAINS: u32 = 88;
export const X_MAX_CONTAINS: u32 = 92;
export const X_MIN_PROPERTIES: u32 = 96;
export const X_MAX_PROPERTIES: u32 = 100;
export const X_DEEP_COUNT: u32 = 104; //        enum/const objects and arrays: addresses of their tapes
export const X_DEEP: u32 = 108;
export const X_MULTIPLE_OF: u32 = 112; //       f64
export const X_FORMAT: u32 = 120; //            u32 FMT_* asserted on strings, 0 for none
export const X_UNEVALUATED_PROPERTIES: u32 = 124; // node addresses, 0 for none
export const X_UNEVALUATED_ITEMS: u32 = 128;
export const X_DYNAMIC_FALLBACK: u32 = 136; // $dynamicRef/$recursiveRef: the static target,
export const X_DYNAMIC_COUNT: u32 = 140; //    and (resource, node) of every schema with the anchor:
export const X_DYNAMIC: u32 = 144; //          the outermost resource of the dynamic scope wins
export const X_CONDITION_COUNT: u32 = 152; //  if/then/else the scan decides at an object's end (F_CONDITIONS):
export const X_CONDITIONS: u32 = 156; //       CONDITION_SIZE entries
export const XF_UNIQUE: u32 = 1;
export const XF_MULTIPLE_OF: u32 = 2;
export const XF_MIN_PROPERTIES: u32 = 4;
export const XF_MAX_PROPERTIES: u32 = 8;
export const XF_MAX_CONTAINS: u32 = 16;
export const XF_CONTAINS_EVALUATES: u32 = 32; // 2020-12: items matching contains count as evaluated

// formats the core asserts (assembly/formats.ts); src/core/layout.ts FORMATS in the same order
export const FMT_DATE: u32 = 1;
export const FMT_TIME: u32 = 2;
export const FMT_DATE_TIME: u32 = 3;
export const FMT_DURATION: u32 = 4;
export const FMT_EMAIL: u32 = 5;
export const FMT_HOSTNAME: u32 = 6;
export const FMT_IPV4: u32 = 7;
export const FMT_IPV6: u32 = 8;
export const FMT_URI: u32 = 9;
export const FMT_URI_REFERENCE: u32 = 10;
export const FMT_UUID: u32 = 11;
export const FMT_JSON_POINTER: u32 = 12;
export const FMT_RELATIVE_JSON_POINTER: u32 = 13;
export const FMT_JS: u32 = 14; // a format checked in JS only (jsCheck JS_FORMAT): IDNA, IRIs, URI templates, regexes

// ---- tape: one entry per value (and per object key) in document order ---------------------------
// A container's entry is followed by its members' (key, value) or elements' entries; TP_NEXT
// is the address after its whole subtree. Strings span their quotes.
export const TAPE_SIZE: u32 = 32;
export const TP_KIND: u32 = 0; //   u32 T_NULL, T_BOOL, T_NUM, T_STR, T_ARR or T_OBJ
export const TP_START: u32 = 4; //  u32 address of the first byte
export const TP_END: u32 = 8; //    u32 address after the last byte
export const TP_AUX: u32 = 12; //   u32 string: code points; container: members; boolean: 1 for true
export const TP_NEXT: u32 = 16; //  u32 address of the entry after the subtree
export const TP_FLAGS: u32 = 20; // u32 TF_*
export const TP_NUMBER: u32 = 24; // f64
export const TF_ESCAPED: u32 = 1;
export const TF_INTEGER: u32 = 2;
export const TF_INEXACT: u32 = 4; // TP_NUMBER not computed yet: JS gives the exact double (jsNumber)

export const T_NULL: u32 = 1;
export const T_BOOL: u32 = 2;
export const T_INT: u32 = 4;
export const T_NUM: u32 = 8; // any number, integers included
export const T_STR: u32 = 16;
export const T_ARR: u32 = 32;
export const T_OBJ: u32 = 64;

export const F_FALSE: u32 = 1;
export const F_NO_ADDITIONAL: u32 = 2;
export const F_MINIMUM: u32 = 4;
export const F_MAXIMUM: u32 = 8;
export const F_EXCL_MINIMUM: u32 = 16;
export const F_EXCL_MAXIMUM: u32 = 32;
export const F_MIN_LENGTH: u32 = 64;
export const F_MAX_LENGTH: u32 = 128;
export const F_MIN_ITEMS: u32 = 256;
export const F_MAX_ITEMS: u32 = 512;
export const F_ENUM: u32 = 1024;
export const F_CONST: u32 = 2048;
export const F_PATTERN: u32 = 4096;
export const F_PATTERN_JS: u32 = 8192; // pattern outside the core's subset: checked in JS (jsCheck)
export const F_ENUM_NUMBERS: u32 = 16384;
export const F_FORMAT: u32 = 32768; // an asserted format (the extension's X_FORMAT), checked as the string is read
export const F_CONDITIONS: u32 = 65536; // if/then/else decided by the scan (the extension's X_CONDITIONS)

export const F_NUMERIC: u32 = F_MINIMUM | F_MAXIMUM | F_EXCL_MINIMUM | F_EXCL_MAXIMUM;
export const F_STRING: u32 = F_MIN_LENGTH | F_MAX_LENGTH | F_PATTERN | F_PATTERN_JS | F_ENUM | F_CONST | F_FORMAT;

// ---- property entry ---------------------------------------------------------------------------
export const PROP_SIZE: u32 = 16;
export const P_NAME: u32 = 0; //  u32 address of the UTF-8 name
export const P_NAME_LEN: u32 = 4;
export const P_CHILD: u32 = 8; // u32 node address
export const P_FLAGS: u32 = 12;
export const PF_REQUIRED: u32 = 1;
export const PF_SYNTHETIC: u32 = 2; // present only for extraction: still "additional" to the rules
export const PF_NO_DUPLICATE_CHECK: u32 = 4; // named only by `required`: a repeat is JSON.parse's business
export const PF_PROBE_SHIFT: u32 = 8; // P_FLAGS >> PF_PROBE_SHIFT: 1 + the slot of the member's span an `if` tests, 0 for none

// ---- a condition the scan decides (F_CONDITIONS): its `if` tests members' values against literals
// (their spans kept past the node's seen bits), its `then` or `else` requires members ------------
export const CONDITION_SIZE: u32 = 32;
export const CD_THEN: u32 = 0; //           u32 node address (where a failure's keyword is), 0 for none
export const CD_ELSE: u32 = 4;
export const CD_TEST_COUNT: u32 = 8; //     the members the `if` tests: TEST_SIZE entries
export const CD_TESTS: u32 = 12;
export const CD_THEN_COUNT: u32 = 16; //    the property indexes `then` requires (u32 each)
export const CD_THEN_REQUIRED: u32 = 20;
export const CD_ELSE_COUNT: u32 = 24;
export const CD_ELSE_REQUIRED: u32 = 28;
export const TEST_SIZE: u32 = 12;
export const CT_PROPERTY: u32 = 0; //       u32 the member's property index
export const CT_NODE: u32 = 4; //           u32 node: types, and string, boolean or null literals
export const CT_REQUIRED: u32 = 8; //       u32 1 when the `if` requires the member

// ---- index entry: an array element with its own node -------------------------------------------
export const INDEX_SIZE: u32 = 8;
export const I_INDEX: u32 = 0; // u32
export const I_NODE: u32 = 4; //  u32 node address

// ---- enum member ------------------------------------------------------------------------------
export const ENUM_SIZE: u32 = 16;
export const EM_KIND: u32 = 0; // u32 EK_*
export const EM_STR: u32 = 4; //  u32 address of UTF-8 bytes
export const EM_NUM: u32 = 8; //  f64, or u32 string length
export const EK_NULL: u32 = 0;
export const EK_FALSE: u32 = 1;
export const EK_TRUE: u32 = 2;
export const EK_NUMBER: u32 = 3;
export const EK_STRING: u32 = 4;

// ---- regex program: [flags, ...]; see assembly/regex.ts and src/core/regex.ts ---------------------
export const RX_ANCHORED: u32 = 1;
export const RX_DFA: u32 = 2;
// DFA: [flags, classCount, stateCount, start, boundaryCount, boundaries..., asciiClass[128],
//       stateFlags[stateCount], next[stateCount * classCount]]
export const DFA_ACCEPT: i32 = 1;
export const DFA_ACCEPT_AT_END: i32 = 2;
export const DFA_DEAD: i32 = 4;
// Pike VM: [flags, code...]
export const OP_CHAR: i32 = 1; //  cp
export const OP_ANY: i32 = 2; //   any code point but a line terminator
export const OP_CLASS: i32 = 3; // negated, rangeCount, (lo, hi)*
export const OP_SPLIT: i32 = 4; // a, b
export const OP_JMP: i32 = 5; //   a
export const OP_BOL: i32 = 6;
export const OP_EOL: i32 = 7;
export const OP_MATCH: i32 = 8;

// ---- message table: (address u32, length u32) per message; address 0 = not copied (too large)

// ---- verdict record: OUT_FIXED words, then (start, end) per extraction slot ---------------------
export const OUT_FIXED: u32 = 6;
export const O_CODE: u32 = 0;
export const O_OFFSET: u32 = 4;
export const O_PATH_START: u32 = 8; // index of the first error-path entry
export const O_PATH_LEN: u32 = 12;
export const O_FLAGS: u32 = 16; //    OF_*
export const O_NODE: u32 = 20; //     node address of the failed rule
export const OF_USED_JS: u32 = 1; // a check of this message was decided in JS (jsCheck)

// ---- jsCheck kinds: checks the core hands to JS, answered with 0 or the E_* code that failed -----
export const JS_PATTERN: i32 = 1; // a pattern outside the core's regex subset, on a string value
export const JS_NUMBER: i32 = 2; //  the numeric checks of a number whose exact double needs JS
export const JS_FORMAT: i32 = 3; //  a format (or part of one: a host name's A-labels) the core leaves to JS

// ---- error path entry: (a i32, b i32) ------------------------------------------------------------
//   a >= 0: object key, raw bytes at message offset a, length b (quotes excluded)
//   a == -1: array index b
//   a == -2: property entry at address b (a missing required property)
export const PATH_INDEX: i32 = -1;
export const PATH_PROP: i32 = -2;
