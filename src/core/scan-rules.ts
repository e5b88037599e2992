// What the core's scan decides as it reads a message (the rules' streaming subset), and so which
// rules need the tape (assembly/scanner.ts: tape mode records the document and evaluates the rules
// on it afterwards).
import { ALL_TYPES, F_CONST, F_ENUM, TYPE_BITS } from './layout.ts';
import { type RuleExtension, type RuleNode, type RuleProperty, aliasOf, extensionKeywords, onlyFormat } from './rule-model.ts';

/** An if/then/else the scan decides at an object's end (assembly/scanner.ts decideConditions). */
export interface ScanCondition {
  readonly test: RuleNode;
  readonly then?: RuleNode | undefined;
  readonly else?: RuleNode | undefined;
}

/** Constrains nothing beyond types, flags, enum/const members and properties. */
function plain(node: RuleNode): boolean {
  return node.slot < 0 && node.items === undefined && node.indexes.length === 0 && node.deepMembers.length === 0 &&
    node.patternProgram === undefined && node.jsFormat === undefined && !node.resource;
}

/** A member test the scan makes on the value's bytes: its types (`integer` only with `number`) and string, boolean or null literals. */
function literalTest(node: RuleNode): boolean {
  return plain(node) && node.ext === undefined && node.properties.length === 0 && (node.flags & ~(F_ENUM | F_CONST)) === 0 &&
    node.members.every((m) => typeof m !== 'number') && ((node.types & TYPE_BITS.integer) === 0 || (node.types & TYPE_BITS.number) !== 0);
}

/** Nothing but properties (and `required`): members tested with `literalTest`, or (a `then`/`else`) only required. */
function objectOnly(node: RuleNode, member: (property: RuleProperty) => boolean): boolean {
  return plain(node) && node.ext === undefined && node.types === ALL_TYPES && node.flags === 0 && node.members.length === 0 && node.properties.every(member);
}

/**
 * The if/then/else of a node when the scan can decide every one at the object's end (its
 * extension holds nothing else, its allOf only nodes that are one if/then/else): each `if` tests
 * members against literals, each `then` and `else` only requires members. Else undefined.
 */
export function scanConditions(node: RuleNode): ScanCondition[] | undefined {
  const ext = node.ext;
  if (!ext || node.deepMembers.length > 0) return undefined;
  const conditions: ScanCondition[] = [];
  const decided = (holder: RuleExtension): boolean => {
    if (extensionKeywords(holder).some((k) => k !== 'if' && k !== 'then' && k !== 'else' && (holder !== ext || k !== 'allOf'))) return false;
    if (!holder.if) return true;
    const requires = (branch: RuleNode | undefined) => branch === undefined || objectOnly(branch, (p) => p.synthetic && p.required);
    if (!objectOnly(holder.if, (p) => literalTest(aliasOf(p.child) ?? p.child)) || !requires(holder.then) || !requires(holder.else)) return false;
    conditions.push({ test: holder.if, then: holder.then, else: holder.else });
    return true;
  };
  if (!decided(ext)) return undefined;
  for (const entry of ext.allOf) {
    const bare = plain(entry) && entry.types === ALL_TYPES && entry.flags === 0 && entry.members.length === 0 && entry.properties.length === 0;
    if (!entry.ext || !bare || !decided(entry.ext)) return undefined;
  }
  return conditions.length > 0 ? conditions : undefined;
}

/**
 * Whether a node the rules reach evaluates a keyword beyond what the scan checks as it reads (an
 * applicator, an object or array in an enum, ...). A schema that is only a `$ref` is read as its
 * target, so shared `$defs` keep the scan.
 */
export function needsTape(rules: RuleNode): boolean {
  const seen = new Set<RuleNode>();
  const pending = [rules];
  for (let node = pending.pop(); node; node = pending.pop()) {
    node = aliasOf(node) ?? node;
    if (seen.has(node)) continue;
    seen.add(node);
    if ((node.ext && !onlyFormat(node.ext) && !scanConditions(node)) || node.deepMembers.length > 0) return true;
    if (node.items) pending.push(node.items);
    for (const { child } of node.properties) pending.push(child);
    for (const { child } of node.indexes) pending.push(child);
  }
  return false;
}
