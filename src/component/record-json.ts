// Output records as JSON sinks write them: protobuf's JSON mapping, text identical to protobuf-es
// `toJsonString` with default options, but written straight to a string. The library builds a
// plain object and stringifies it; on the records map builds, that was a fifth of a flow's time.
// Records of the shapes map and the merge stages make (scalars and lists of scalars, implicit
// presence) take this path; any other type, or a value of the wrong type, goes to the library.
import { type DescField, type DescMessage, type Message, ScalarType, toJsonString } from '@bufbuild/protobuf';
import { FeatureSet_FieldPresence } from '@bufbuild/protobuf/wkt';

/** A field's `"name":value`, or null when protobuf JSON leaves it out (a zero value, an empty list). */
type FieldText = (value: unknown) => string | null;

/** A value of the wrong type for its field: the library encodes the record (and names the problem). */
class Misfit extends Error {}
const MISFIT = new Misfit();

const number = (value: number) => (Number.isFinite(value) ? String(value) : 'null');

/** A string as JSON; the common case (nothing to escape) without JSON.stringify's call into the runtime. */
function quoted(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // control characters, quote, backslash, and surrogates (a lone one is escaped)
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(value);
  }
  return `"${value}"`;
}

/** A scalar value's JSON text, for a field or a list item; undefined for scalar types not written here. */
function scalarText(type: ScalarType): ((value: unknown) => string) | undefined {
  switch (type) {
    case ScalarType.STRING:
      return (value) => {
        if (typeof value !== 'string') throw MISFIT;
        return quoted(value);
      };
    case ScalarType.BOOL:
      return (value) => {
        if (typeof value !== 'boolean') throw MISFIT;
        return value ? 'true' : 'false';
      };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return (value) => {
        if (typeof value !== 'number') throw MISFIT;
        return number(value);
      };
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return (value) => {
        if (typeof value !== 'number') throw MISFIT;
        if (Number.isNaN(value)) return '"NaN"';
        if (value === Infinity) return '"Infinity"';
        if (value === -Infinity) return '"-Infinity"';
        return String(value);
      };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      // 64-bit integers are decimal strings in protobuf JSON
      return (value) => {
        if (typeof value === 'bigint' || typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value))) return quoted(value.toString());
        throw MISFIT;
      };
    default:
      return undefined;
  }
}

/** Whether an implicit-presence field holding `value` is left out, as protobuf-es decides it. */
function zeroTest(type: ScalarType): (value: unknown) => boolean {
  switch (type) {
    case ScalarType.STRING:
      return (value) => value === '';
    case ScalarType.BOOL:
      return (value) => value === false;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return (value) => Object.is(value, 0); // -0 is written
    default:
      return (value) => value == 0; // loosely: 0, 0n and "0" alike, as the library compares
  }
}

function fieldText(field: DescField): FieldText | undefined {
  if (field.name === '__proto__' || field.jsonName === '__proto__') return undefined;
  const name = `${JSON.stringify(field.jsonName)}:`;
  if (field.fieldKind === 'list' && field.listKind === 'scalar') {
    const item = scalarText(field.scalar);
    if (!item) return undefined;
    return (value) => {
      if (!Array.isArray(value)) throw MISFIT;
      if (value.length === 0) return null;
      let text = `${name}[${item(value[0])}`;
      for (let i = 1; i < value.length; i++) text += `,${item(value[i])}`;
      return `${text}]`;
    };
  }
  if (field.fieldKind !== 'scalar' || field.oneof || field.presence !== FeatureSet_FieldPresence.IMPLICIT) return undefined;
  const text = scalarText(field.scalar);
  if (!text) return undefined;
  const isZero = zeroTest(field.scalar);
  return (value) => (isZero(value) ? null : name + text(value));
}

/** The JSON encoder of records of `type`: the direct one when every field has one, else the library's. */
export function jsonEncoder(type: DescMessage): (record: Message) => string {
  const library = (record: Message) => toJsonString(type, record);
  if (type.typeName.startsWith('google.protobuf.')) return library; // well-known types have JSON of their own
  const fields = [...type.fields].sort((a, b) => a.number - b.number);
  const texts = fields.map(fieldText);
  if (texts.some((text) => text === undefined)) return library;
  const names = fields.map((field) => field.localName);
  const writers = texts as FieldText[];
  return (record) => {
    if (record.$typeName !== type.typeName) return library(record);
    const values = record as unknown as Record<string, unknown>;
    let json = '{';
    try {
      for (let i = 0; i < writers.length; i++) {
        const text = writers[i]!(values[names[i]!]);
        if (text === null) continue;
        json += json.length === 1 ? text : `,${text}`;
      }
    } catch (error) {
      if (error instanceof Misfit) return library(record);
      throw error;
    }
    return `${json}}`;
  };
}
