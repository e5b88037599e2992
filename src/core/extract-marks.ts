// Marks the fields a flow extracts in the rule tree: each pointer's node gets its slot, on its own
// copy of every node along the path (two fields through one shared $def get their own slots).
import { SluiceError } from '../errors.ts';
import { parsePointer } from './json-pointer.ts';
import { type RuleNode, emptyNode, ownCopy, propertyOf } from './rule-model.ts';

/**
 * Marks the node(s) a pointer reaches. A segment names an object member, or, when it is an array
 * index (0, 1, ... without leading zeros), an array element too: which one applies depends on the
 * document, so both branches are marked.
 */
export function markPointer(node: RuleNode, segments: readonly string[], slot: number, pointer: string): void {
  if (segments.length === 0) {
    if (node.slot >= 0 && node.slot !== slot) throw new SluiceError('SLC_SCHEMA', `extract: ${JSON.stringify(pointer)} is listed twice`);
    node.slot = slot;
    return;
  }
  const [segment, ...rest] = segments as [string, ...string[]];
  const property = propertyOf(node, segment, node.location);
  const member = ownCopy(property.child);
  node.properties[node.properties.indexOf(property)] = { ...property, child: member };
  markPointer(member, rest, slot, pointer);
  if (/^(0|[1-9]\d{0,8})$/.test(segment)) {
    const index = Number(segment);
    let element = node.indexes.find((i) => i.index === index);
    if (!element) {
      element = { index, child: node.items ? ownCopy(node.items) : emptyNode(`${node.location}/items`) };
      node.indexes.push(element);
    }
    markPointer(element.child, rest, slot, pointer);
  }
}

export function markExtract(root: RuleNode, pointers: readonly string[]): void {
  const seen = new Set<string>();
  pointers.forEach((pointer, slot) => {
    if (seen.has(pointer)) throw new SluiceError('SLC_SCHEMA', `extract: ${JSON.stringify(pointer)} is listed twice`);
    seen.add(pointer);
    markPointer(root, parsePointer(pointer), slot, pointer);
  });
}
