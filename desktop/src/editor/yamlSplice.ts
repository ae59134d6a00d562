// Turns an edit made on a `yaml` Document into the smallest text edits of the original text: untouched nodes keep
// their bytes (comments, quoting, spacing, blank lines), changed nodes are re-written in place, added ones are
// serialised at the indentation of their neighbours. The YAML text stays the single source of truth.
import { Document, isMap, isPair, isScalar, isSeq, type Node, type Pair, YAMLMap } from 'yaml';

export interface TextEdit {
  from: number;
  to: number;
  insert: string;
}

type AnyNode = Node | null | undefined;

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** The offset just after the line holding `offset - 1` (its newline included). */
function lineEndAfter(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === '\n') return offset;
  const newline = text.indexOf('\n', offset);
  return newline < 0 ? text.length : newline + 1;
}

/** A node's YAML text, its lines after the first indented by `column`, without the final newline. */
export function serializeAt(node: unknown, column: number): string {
  const text = new Document(node).toString({ lineWidth: 0 }).replace(/\n$/, '');
  const pad = ' '.repeat(column);
  return text
    .split('\n')
    .map((line, index) => (index === 0 || line === '' ? line : pad + line))
    .join('\n');
}

function sameValue(a: AnyNode, b: AnyNode): boolean {
  const json = (node: AnyNode) => JSON.stringify(node && 'toJSON' in node ? (node as { toJSON(): unknown }).toJSON() : node ?? null);
  return json(a) === json(b);
}

function isFlow(node: AnyNode): boolean {
  return !!node && (isMap(node) || isSeq(node)) && !!node.flow;
}

/** Keys that identify a sequence item across an edit: a step's id, else the item's content. */
function itemKey(node: AnyNode): string {
  if (isMap(node) && node.has('id')) return `id:${String(node.get('id'))}`;
  return `v:${JSON.stringify(node && 'toJSON' in node ? (node as { toJSON(): unknown }).toJSON() : null)}`;
}

function longestCommonSubsequence(a: string[], b: string[]): Array<[number, number]> {
  const table: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      table[i][j] = a[i] === b[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
    }
  }
  const pairs: Array<[number, number]> = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (table[i + 1][j] >= table[i][j + 1]) i++;
    else j++;
  }
  return pairs;
}

class Splicer {
  readonly edits: TextEdit[] = [];
  constructor(readonly text: string) {}

  replaceWhole(original: Node, next: AnyNode): void {
    const [start, valueEnd] = original.range ?? [0, 0, 0];
    let end = valueEnd;
    // A block collection's range ends after its last newline: keep that newline.
    if (end > start && this.text[end - 1] === '\n' && !isScalar(original)) end--;
    if (isScalar(original) && (isMap(next) || isSeq(next)) && !next.flow && next.items.length > 0) {
      // `key:` with an empty value becoming a block: the block goes on the lines below, indented.
      const indent = columnOf(this.text, lineStart(this.text, start)) + (this.text.slice(lineStart(this.text, start)).length - this.text.slice(lineStart(this.text, start)).trimStart().length);
      let from = start;
      while (from > 0 && this.text[from - 1] === ' ') from--;
      this.edits.push({ from, to: end, insert: '\n' + ' '.repeat(indent + 2) + serializeAt(next, indent + 2) });
      return;
    }
    let written: unknown = next ?? null;
    if (isScalar(next)) {
      // The original's trailing comment lies outside the replaced range and stays; do not write it twice.
      written = next.clone();
      (written as Node).comment = undefined;
      (written as Node).commentBefore = undefined;
    }
    this.edits.push({ from: start, to: end, insert: serializeAt(written, columnOf(this.text, start)) });
  }

  diff(original: AnyNode, next: AnyNode): void {
    if (sameValue(original, next) && !(isMap(original) || isSeq(original))) return;
    if (!original || !original.range) return;
    if (isMap(original) && isMap(next) && !isFlow(original)) return this.diffMap(original, next);
    if (isSeq(original) && isSeq(next) && !isFlow(original)) return this.diffSeq(original, next);
    if (sameValue(original, next)) return;
    this.replaceWhole(original, next);
  }

  private pairStart(pair: Pair): number {
    const key = pair.key as AnyNode;
    return lineStart(this.text, key?.range?.[0] ?? 0);
  }

  private diffMap(original: YAMLMap, next: YAMLMap): void {
    const name = (pair: Pair) => String(isScalar(pair.key) ? pair.key.value : pair.key);
    const nextByName = new Map(next.items.map((pair) => [name(pair), pair]));
    const originalNames = original.items.map(name);
    const kept = originalNames.filter((key) => nextByName.has(key));
    const nextKept = next.items.map(name).filter((key) => originalNames.includes(key));
    if (kept.join('\u0000') !== nextKept.join('\u0000')) return this.replaceWhole(original, next);
    const mapEnd = lineEndAfter(this.text, original.range?.[1] ?? 0);
    original.items.forEach((pair, index) => {
      const counterpart = nextByName.get(name(pair));
      let from = this.pairStart(pair);
      let to = index + 1 < original.items.length ? this.pairStart(original.items[index + 1]) : mapEnd;
      const keyAt = (pair.key as AnyNode)?.range?.[0] ?? from;
      if (this.text.slice(from, keyAt).trim() !== '' && index + 1 < original.items.length) {
        // The first key of a sequence item (`- id: x`): the next key moves up beside the dash.
        from = keyAt;
        to = (original.items[index + 1].key as AnyNode)?.range?.[0] ?? to;
      }
      if (!counterpart) this.edits.push({ from, to, insert: '' });
      else this.diffValue(pair, counterpart);
    });
    const added = next.items.filter((pair) => !originalNames.includes(name(pair)));
    if (added.length === 0) return;
    const column = columnOf(this.text, (original.items[0]?.key as AnyNode)?.range?.[0] ?? 0);
    const map = new YAMLMap();
    map.items = added;
    const body = ' '.repeat(column) + serializeAt(map, column) + '\n';
    const insertAt = original.items.length ? mapEnd : original.range?.[0] ?? 0;
    this.edits.push({ from: insertAt, to: insertAt, insert: this.text[insertAt - 1] === '\n' || insertAt === 0 ? body : '\n' + body });
  }

  private diffValue(original: Pair, next: Pair): void {
    const before = original.value as AnyNode;
    const after = next.value as AnyNode;
    if (sameValue(before, after) && !(isMap(before) || isSeq(before))) return;
    if (before && before.range) return this.diff(before, after);
    // `key:` with no value: write the new value after the colon.
    const keyEnd = (original.key as AnyNode)?.range?.[1] ?? 0;
    const colon = this.text.indexOf(':', keyEnd);
    const column = columnOf(this.text, lineStart(this.text, keyEnd)) + columnOf(this.text, keyEnd);
    const block = isMap(after) || isSeq(after);
    const insert = block ? '\n' + ' '.repeat(column + 2) + serializeAt(after, column + 2) : ' ' + serializeAt(after, column);
    this.edits.push({ from: colon + 1, to: colon + 1, insert });
  }

  private itemBlock(seq: Node & { items: unknown[] }, index: number): [number, number] {
    const items = seq.items as Node[];
    const from = lineStart(this.text, items[index].range?.[0] ?? 0);
    const seqEnd = lineEndAfter(this.text, seq.range?.[1] ?? 0);
    const to = index + 1 < items.length ? lineStart(this.text, items[index + 1].range?.[0] ?? 0) : seqEnd;
    return [from, to];
  }

  private diffSeq(original: Node & { items: unknown[] }, next: Node & { items: unknown[] }): void {
    const before = original.items as Node[];
    const after = next.items as Node[];
    const pairs = longestCommonSubsequence(before.map(itemKey), after.map(itemKey));
    const firstItem = before[0]?.range?.[0];
    if (firstItem === undefined) return this.replaceWhole(original, next);
    const dashColumn = columnOf(this.text, firstItem) - 2;
    const blocks = before.map((_, index) => this.itemBlock(original, index));
    const removedByKey = new Map<string, number>();
    const write = (item: Node) => {
      const moved = removedByKey.get(itemKey(item));
      if (moved !== undefined && sameValue(before[moved], item)) return this.text.slice(...blocks[moved]);
      return ' '.repeat(dashColumn) + '- ' + serializeAt(item, dashColumn + 2) + '\n';
    };
    const removedKeys = new Set<string>();
    const addedKeys = new Set<string>();
    const gaps: Array<{ removed: number[]; added: number[]; insertAt: number }> = [];
    let i = 0;
    let j = 0;
    for (const [bi, aj] of [...pairs, [before.length, after.length] as [number, number]]) {
      const gap = { removed: [] as number[], added: [] as number[], insertAt: 0 };
      for (; i < bi; i++) gap.removed.push(i);
      for (; j < aj; j++) gap.added.push(j);
      gap.insertAt = bi < before.length ? blocks[bi][0] : blocks[before.length - 1][1];
      gap.removed.forEach((index) => removedKeys.add(itemKey(before[index])));
      gap.added.forEach((index) => addedKeys.add(itemKey(after[index])));
      gaps.push(gap);
      if (bi < before.length) this.diff(before[bi], after[aj]);
      i = bi + 1;
      j = aj + 1;
    }
    before.forEach((item, index) => removedByKey.set(itemKey(item), index));
    for (const gap of gaps) {
      // An item that changed (its key is nowhere else) is paired with the new item at its place: edited in place.
      const changedBefore = gap.removed.filter((index) => !addedKeys.has(itemKey(before[index])));
      const changedAfter = gap.added.filter((index) => !removedKeys.has(itemKey(after[index])));
      const paired = new Map<number, number>();
      changedBefore.slice(0, changedAfter.length).forEach((index, k) => paired.set(index, changedAfter[k]));
      const pairedAfter = new Set(paired.values());
      for (const index of gap.removed) {
        const counterpart = paired.get(index);
        if (counterpart !== undefined) this.diff(before[index], after[counterpart]);
        else this.edits.push({ from: blocks[index][0], to: blocks[index][1], insert: '' });
      }
      const inserted = gap.added.filter((index) => !pairedAfter.has(index)).map((index) => write(after[index]));
      if (inserted.length) {
        const at = gap.insertAt;
        const prefix = at > 0 && this.text[at - 1] !== '\n' ? '\n' : '';
        this.edits.push({ from: at, to: at, insert: prefix + inserted.join('') });
      }
    }
  }
}

/** Applies edits (non-overlapping, any order) to a text. */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.from - a.from || b.to - a.to);
  let result = text;
  for (const edit of sorted) result = result.slice(0, edit.from) + edit.insert + result.slice(edit.to);
  return result;
}

/**
 * The text edits that turn `text` (parsed as `original`) into the document `next` (a mutated copy of
 * `original`), touching only what changed.
 */
export function spliceEdits(text: string, original: Document, next: Document): TextEdit[] {
  const splicer = new Splicer(text);
  if (!original.contents || !original.contents.range) {
    return [{ from: 0, to: text.length, insert: next.toString({ lineWidth: 0 }) }];
  }
  splicer.diff(original.contents as Node, next.contents as AnyNode);
  return splicer.edits;
}

export { isPair };
