// Formats the core leaves to JavaScript, a documented fallback (`sluice check` lists each use in a
// flow's rules, and a verdict that used one says `fallback: true`): the IDNA rules of host names
// (UTS #46, RFC 5891-5893: the core checks a host name's syntax and hands over only names with an
// A-label, xn--), internationalised e-mail addresses and IRIs, URI templates and ECMA-262 regexes.
// Checked by @hyperjump/json-schema-formats and, for IDNA, idn-hostname (which it uses itself:
// its own isIdn logs every invalid name to the console, so host names go to idn-hostname here).
// Both are loaded at the first value checked: most rules never hand a format to JS.
import { createRequire } from 'node:module';

type Formats = typeof import('@hyperjump/json-schema-formats');
type IdnHostname = typeof import('idn-hostname');
let formats: Formats | undefined;
let idnHostname: IdnHostname | undefined;
const load = <T>(name: string): T => createRequire(import.meta.url)(name) as T;
const library = (): Formats => (formats ??= load<Formats>('@hyperjump/json-schema-formats'));

/** A host name valid under IDNA2008 and UTS #46 (idn-hostname throws why one is not). */
function isIdn(name: string): boolean {
  // a trailing label separator (any of the four IDNA dots) is not a host name
  if (/[.\uFF0E\u3002\uFF61]$/.test(name)) return false;
  try {
    return (idnHostname ??= load<IdnHostname>('idn-hostname')).isIdnHostname(name);
  } catch {
    return false;
  }
}

/** An internationalised mailbox; its domain checked first, so that the library never checks (and logs) an invalid one. */
function isIdnMailbox(email: string): boolean {
  const domain = email.slice(email.lastIndexOf('@') + 1);
  if (!domain.startsWith('[') && !isIdn(domain)) return false;
  return library().isIdnEmail(email);
}

/**
 * An IRI check. An IRI with an IPvFuture host (`http://[v1.fe]`) matched the grammar before the
 * library throws that it cannot use such a host: as a format, it is valid.
 */
function iri(check: (value: string) => boolean): (value: string) => boolean {
  return (value) => {
    try {
      return check(value);
    } catch (error) {
      return error instanceof Error && error.message.startsWith('Unsupported IP version in host');
    }
  };
}

/** Format name -> its check in JS (none throws: each runs inside a call from the core). */
export const JS_FORMATS: Readonly<Record<string, (value: string) => boolean>> = {
  hostname: (name) => library().isHostname(name) && isIdn(name),
  'idn-hostname': isIdn,
  'idn-email': isIdnMailbox,
  iri: iri((value) => library().isIri(value)),
  'iri-reference': iri((value) => library().isIriReference(value)),
  'uri-template': (value) => library().isUriTemplate(value),
  regex: (value) => library().isRegex(value),
};

/** Which values of a format JS decides, for `sluice check`. */
export function jsFormatScope(format: string): string {
  return format === 'hostname' ? 'host names with an A-label (xn--): their IDNA validity' : 'every value';
}
