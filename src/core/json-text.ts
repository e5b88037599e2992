// JSON.parse for texts from outside (messages, table rows, service replies), safe from a V8 bug:
// from Node 24 (V8 12.8) to 26 at least, JSON.parse can read an escaped object key back as an
// earlier key whose decoded text equals the escape's source (after a key "\\" was read, the key
// "\n" comes back as "\": nodejs/node#63785). Texts without an escaped key keep JSON.parse alone;
// in the rest, each key is decoded on its own and set on its object.

/** One token of a text JSON.parse has accepted: a string, a structural character, or a scalar. */
const TOKEN = /\s*(?:("[^"\\]*(?:\\.[^"\\]*)*")|([{}[\],:])|([^\s{}[\],:]+))/y;

/** A colon, after whitespace: the string before it was a key. */
const COLON_NEXT = /\s*:/y;

/** JSON.parse(text), with escaped object keys decoded right on every runtime. */
export function parseJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null && hasEscapedKey(text) ? readKeysApart(text) : value;
}

/** Whether a well-formed text has an object key with an escape in it (a backslash is only ever inside a string). */
function hasEscapedKey(text: string): boolean {
  for (let at = text.indexOf('\\'); at >= 0; at = text.indexOf('\\', at)) {
    // the end of the string the backslash is in, then: a key when a colon follows
    while (at < text.length && text.charCodeAt(at) !== 0x22) at += text.charCodeAt(at) === 0x5c ? 2 : 1;
    COLON_NEXT.lastIndex = ++at;
    if (COLON_NEXT.test(text)) return true;
  }
  return false;
}

/** Builds the value of a well-formed text, decoding each string (key or value) alone. */
function readKeysApart(text: string): unknown {
  const open: (unknown[] | Record<string, unknown>)[] = [];
  const keys: string[] = [];
  let expectKey = false;
  TOKEN.lastIndex = 0;
  // the text is well-formed: a token follows until the outermost value closes
  for (;;) {
    const [, string, mark, scalar] = TOKEN.exec(text)!;
    if (mark === ':') continue;
    if (mark === ',') {
      expectKey = !Array.isArray(open.at(-1));
      continue;
    }
    // a string token parsed alone is a value, which V8 decodes right
    if (string !== undefined && expectKey) {
      keys.push(JSON.parse(string) as string);
      expectKey = false;
      continue;
    }
    if (mark === '{' || mark === '[') {
      open.push(mark === '{' ? {} : []);
      expectKey = mark === '{';
      continue;
    }
    let value: unknown;
    if (mark !== undefined) {
      value = open.pop();
      expectKey = false;
    } else if (string !== undefined) value = JSON.parse(string);
    else value = scalar === 'true' ? true : scalar === 'false' ? false : scalar === 'null' ? null : Number(scalar);
    const parent = open.at(-1);
    if (parent === undefined) return value;
    if (Array.isArray(parent)) parent.push(value);
    else setOwn(parent, keys.pop()!, value);
  }
}

/** As JSON.parse sets a member: "__proto__" is an own property, not the prototype. */
function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  else object[key] = value;
}
