// Secrets in a configuration: which keys hold one, a redacted copy for printing and logging, and
// the secrets written in a file rather than taken from the environment (`sluice check` warns).
// A secret comes from an environment variable through HOCON substitution:
//   sasl.password = ${KAFKA_SASL_PASSWORD}        headers { Authorization = "Bearer "${API_TOKEN} }
import { readFileSync } from 'node:fs';
import type { ConfigProblem } from '../errors.ts';

export const REDACTED = '[redacted]';

/** Key names that hold a secret: passwords, tokens, credentials in HTTP headers. */
const SECRET_KEY = /(^|[-_.])(password|passwd|secret|token)$|^(authorization|proxy-authorization|cookie|x-api-key|api-key|apikey)$/i;

export const isSecretKey = (key: string): boolean => SECRET_KEY.test(key);

// the password of a URL's user information, `http://user:pa55@host/` or a broker's `user:pa55@host:9092`:
// group 1 is what comes before it (kept), the password runs to the `@`
const URL_PASSWORD = /((?:^|[\s,;"'(<])(?:[a-z][a-z\d+.-]*:\/\/)?[^\s/?#@:,;"'(<]+):[^\s/?#@,;"']*@/gi;
const URL_PASSWORD_ONE = new RegExp(URL_PASSWORD.source, 'i');

/** Whether a string holds a password inside a URL (`scheme://user:password@host`). */
export const holdsUrlPassword = (text: string): boolean => text.includes('@') && URL_PASSWORD_ONE.test(text);

/** The string with the password of every URL in it replaced by [redacted] (the user name stays). */
export const redactUrlPasswords = (text: string): string => (text.includes('@') ? text.replace(URL_PASSWORD, `$1:${REDACTED}@`) : text);

/** A copy of a configuration tree with every secret string replaced by [redacted], and passwords inside URLs. */
export function redactSecrets<T>(value: T): T {
  if (typeof value === 'string') return redactUrlPasswords(value) as T;
  if (Array.isArray(value)) return value.map(redactSecrets) as T;
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) out[key] = isSecretKey(key) && typeof child === 'string' ? REDACTED : redactSecrets(child);
  return out as T;
}

/** Whether a tree holds a secret string anywhere, or a URL with a password (a walk that allocates nothing). */
export function holdsSecret(value: unknown, depth = 6): boolean {
  if (typeof value !== 'object' || value === null || depth === 0) return false;
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'string' ? isSecretKey(key) || holdsUrlPassword(child) : holdsSecret(child, depth - 1)) return true;
  }
  return false;
}

/**
 * Every string of a configuration tree holding a password inside a URL (a service's base-url,
 * brokers), by key path: `sluice check` warns, whether the file or the environment gave it.
 * Rules describe messages: their strings are not looked at.
 */
export function urlPasswords(tree: unknown, path: readonly PropertyKey[] = []): (readonly PropertyKey[])[] {
  if (typeof tree === 'string') return holdsUrlPassword(tree) ? [path] : [];
  if (typeof tree !== 'object' || tree === null) return [];
  return Object.entries(tree).flatMap(([key, child]) => (key === 'rules' ? [] : urlPasswords(child, [...path, Array.isArray(tree) ? Number(key) : key])));
}

// `key = value` / `key: value` / `"key" = value` anywhere on a line (a HOCON object may be on one);
// the value runs to a comma, brace or the line's end outside quotes (`"Bearer "${TOKEN}` is one)
const ASSIGNMENT = /(?:^|[\s{,.])"?([A-Za-z][\w-]*)"?\s*[:=]\s*((?:"(?:[^"\\]|\\.)*"|[^,}\n"])*)/g;

/** Secrets written as literal values in the files (not `${VAR}` substitutions): one warning each. */
export function literalSecrets(files: readonly string[]): ConfigProblem[] {
  const found: ConfigProblem[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // the loader reported it
    }
    text.split('\n').forEach((line, index) => {
      if (/^\s*(#|\/\/)/.test(line)) return;
      for (const [, key, raw] of line.matchAll(ASSIGNMENT)) {
        const value = raw!.replace(/\s+(#|\/\/).*$/, '').trim();
        if (!isSecretKey(key!) || value === '' || value === '""' || value === 'null' || value.includes('${')) continue;
        found.push({
          file: `${file}:${index + 1}`,
          path: key!,
          message: 'a secret written in the file: take it from the environment instead (e.g. password = ${KAFKA_SASL_PASSWORD})',
        });
      }
    });
  }
  return found;
}
