// JSON Pointer (RFC 6901) reference tokens: `~` and `/` in a name are written `~0` and `~1`.
import { SluiceError } from '../errors.ts';

/** A property name as a pointer token. */
export function escapeToken(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A pointer token as the property name it stands for. */
export function unescapeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Splits a pointer into the property names it stands for. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new SluiceError('SLC_SCHEMA', `extract: ${JSON.stringify(pointer)} is not a JSON Pointer (it must start with "/")`);
  return pointer.slice(1).split('/').map((s) => unescapeToken(s));
}
