// JSON Pointer (RFC 6901) reference tokens: `~` and `/` in a name are written `~0` and `~1`.

/** A property name as a pointer token. */
export function escapeToken(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A pointer token as the property name it stands for. */
export function unescapeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}
