// The rule program's layout as the compiler writes it: the same names and values as
// assembly/layout.ts, which the core reads (test/core/layout.test.ts holds the two equal).


export const NODE_SIZE = 104;
export const N_TYPE = 0, N_FLAGS = 4, N_MIN_LENGTH = 8, N_MAX_LENGTH = 12, N_MIN_ITEMS = 16, N_MAX_ITEMS = 20;
export const N_ITEMS = 24, N_PROP_COUNT = 28, N_PROPS = 32, N_SEEN_WORDS = 36, N_PATTERN = 40;
export const N_ENUM_COUNT = 44, N_ENUM = 48, N_SLOT = 52, N_MINIMUM = 56, N_MAXIMUM = 64;
export const N_EXCL_MINIMUM = 72, N_EXCL_MAXIMUM = 80, N_INDEX_COUNT = 88, N_INDEXES = 92, N_EXT = 96, N_RESOURCE = 100;
// the extension of a node that uses applicators and the other keywords evaluated on the tape
export const EXT_SIZE = 160;
export const X_FLAGS = 0, X_ALL_COUNT = 4, X_ALL = 8, X_ANY_COUNT = 12, X_ANY = 16, X_ONE_COUNT = 20, X_ONE = 24;
export const X_NOT = 28, X_IF = 32, X_THEN = 36, X_ELSE = 40, X_PATTERN_COUNT = 44, X_PATTERNS = 48, X_ADDITIONAL = 52;
export const X_PROPERTY_NAMES = 56, X_DEP_REQUIRED_COUNT = 60, X_DEP_REQUIRED = 64, X_DEP_SCHEMA_COUNT = 68, X_DEP_SCHEMAS = 72;
export const X_PREFIX_COUNT = 76, X_PREFIX = 80, X_CONTAINS = 84, X_MIN_CONTAINS = 88, X_MAX_CONTAINS = 92;
export const X_MIN_PROPERTIES = 96, X_MAX_PROPERTIES = 100, X_DEEP_COUNT = 104, X_DEEP = 108, X_MULTIPLE_OF = 112, X_FORMAT = 120;
export const X_UNEVALUATED_PROPERTIES = 124, X_UNEVALUATED_ITEMS = 128, XF_CONTAINS_EVALUATES = 32;
export const X_DYNAMIC_FALLBACK = 136, X_DYNAMIC_COUNT = 140, X_DYNAMIC = 144, X_CONDITION_COUNT = 152, X_CONDITIONS = 156;
// a condition the scan decides (F_CONDITIONS) and the members its `if` tests
export const CONDITION_SIZE = 32, CD_THEN = 0, CD_ELSE = 4, CD_TEST_COUNT = 8, CD_TESTS = 12, CD_THEN_COUNT = 16, CD_THEN_REQUIRED = 20, CD_ELSE_COUNT = 24, CD_ELSE_REQUIRED = 28;
export const TEST_SIZE = 12, CT_PROPERTY = 0, CT_NODE = 4, CT_REQUIRED = 8;
/** The formats the core asserts, by their FMT_* number (assembly/layout.ts). */
export const FORMATS = ['date', 'time', 'date-time', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uri', 'uri-reference', 'uuid', 'json-pointer', 'relative-json-pointer'];
/** The FMT_* number of a format checked in JS only (src/core/js-formats.ts). */
export const FMT_JS = 14;
export const XF_UNIQUE = 1, XF_MULTIPLE_OF = 2, XF_MIN_PROPERTIES = 4, XF_MAX_PROPERTIES = 8, XF_MAX_CONTAINS = 16;
export const TAPE_SIZE = 32, TP_KIND = 0, TP_START = 4, TP_END = 8, TP_AUX = 12, TP_NEXT = 16, TP_FLAGS = 20, TP_NUMBER = 24;
export const TF_ESCAPED = 1, TF_INTEGER = 2;
export const PROP_SIZE = 16, PF_REQUIRED = 1, PF_SYNTHETIC = 2, PF_NO_DUPLICATE_CHECK = 4, PF_PROBE_SHIFT = 8;
export const INDEX_SIZE = 8;
export const ENUM_SIZE = 16, EK_NULL = 0, EK_FALSE = 1, EK_TRUE = 2, EK_NUMBER = 3, EK_STRING = 4;

export const TYPE_BITS = { null: 1, boolean: 2, integer: 4, number: 8, string: 16, array: 32, object: 64 } as const;
export const ALL_TYPES = 127;

export const F_FALSE = 1, F_NO_ADDITIONAL = 2, F_MINIMUM = 4, F_MAXIMUM = 8, F_EXCL_MINIMUM = 16;
export const F_EXCL_MAXIMUM = 32, F_MIN_LENGTH = 64, F_MAX_LENGTH = 128, F_MIN_ITEMS = 256, F_MAX_ITEMS = 512;
export const F_ENUM = 1024, F_CONST = 2048, F_PATTERN = 4096, F_PATTERN_JS = 8192, F_ENUM_NUMBERS = 16384, F_FORMAT = 32768, F_CONDITIONS = 65536;
