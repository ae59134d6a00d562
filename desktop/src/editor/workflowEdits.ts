// Canvas and inspector edits as precise edits of the YAML text: each edit changes a copy of the parsed document
// through the `yaml` Document API, then only the changed nodes are written back (yamlSplice.ts).
import { type Document, isMap, isScalar, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import { applyEdits, spliceEdits } from './yamlSplice';

export class EditRefused extends Error {}

type Scalarish = string | number | boolean | null;
export type YamlValue = Scalarish | YamlValue[] | { [key: string]: YamlValue };

function parse(text: string): Document {
  const doc = parseDocument(text, { keepSourceTokens: false });
  if (doc.errors.length) {
    throw new EditRefused(`the YAML does not parse (${doc.errors[0].message.split('\n')[0]}): fix it in the YAML pane first`);
  }
  return doc;
}

/** Runs `change` on a copy of the document and returns the text with only the changed parts rewritten. */
export function editDocument(text: string, change: (doc: Document) => void): string {
  const original = parse(text);
  const next = parse(text);
  if (next.contents === null || !isMap(next.contents)) next.contents = next.createNode({}) as YAMLMap;
  change(next);
  if (!original.contents || !isMap(original.contents)) return next.toString({ lineWidth: 0 });
  return applyEdits(text, spliceEdits(text, original, next));
}

function seqAt(doc: Document, key: string, create: boolean): YAMLSeq | undefined {
  const found = doc.get(key, true);
  if (isSeq(found)) return found;
  if (!create) return undefined;
  const seq = doc.createNode([]) as YAMLSeq;
  doc.set(key, seq);
  return seq;
}

function stepsOf(doc: Document): YAMLMap[] {
  return (seqAt(doc, 'steps', false)?.items ?? []).filter(isMap) as YAMLMap[];
}

function findStep(doc: Document, id: string): YAMLMap {
  const step = [...stepsOf(doc), ...((seqAt(doc, 'on_failure', false)?.items ?? []).filter(isMap) as YAMLMap[])].find(
    (item) => String(item.get('id')) === id,
  );
  if (!step) throw new EditRefused(`no step \`${id}\``);
  return step;
}

function needsOf(step: YAMLMap): string[] {
  const needs = step.get('needs', true);
  if (isSeq(needs)) return needs.items.map((item) => String(isScalar(item) ? item.value : item));
  if (isScalar(needs) && needs.value) return [String(needs.value)];
  return [];
}

function setNeeds(doc: Document, step: YAMLMap, needs: string[]): void {
  const current = step.get('needs', true);
  if (needs.length === 0) {
    step.delete('needs');
    return;
  }
  if (isSeq(current)) {
    const keep = current.items.filter((item) => needs.includes(String(isScalar(item) ? item.value : item)));
    const have = keep.map((item) => String(isScalar(item) ? item.value : item));
    current.items = [...keep, ...needs.filter((name) => !have.includes(name)).map((name) => doc.createNode(name))];
    return;
  }
  const seq = doc.createNode(needs) as YAMLSeq;
  seq.flow = true;
  step.set('needs', seq);
}

/** The step ids of the text, in file order (main steps only). */
export function stepIds(text: string): string[] {
  const doc = parseDocument(text);
  return stepsOf(doc).map((step) => String(step.get('id') ?? ''));
}

/** A step id not used yet: `base`, `base_2`, `base_3`... */
export function freshStepId(text: string, base: string): string {
  const taken = new Set(stepIds(text));
  const clean = base.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(\d)/, '_$1') || 'step';
  if (!taken.has(clean)) return clean;
  for (let n = 2; ; n++) if (!taken.has(`${clean}_${n}`)) return `${clean}_${n}`;
}

export interface NewStep {
  id: string;
  action: string;
  input?: Record<string, YamlValue>;
  needs?: string[];
}

export function addStep(text: string, step: NewStep, atIndex?: number): string {
  return editDocument(text, (doc) => {
    const steps = seqAt(doc, 'steps', true)!;
    const body: Record<string, YamlValue> = { id: step.id, action: step.action };
    if (step.needs?.length) body.needs = step.needs;
    if (step.input && Object.keys(step.input).length) body.input = step.input;
    const node = doc.createNode(body) as YAMLMap;
    const needs = node.get('needs', true);
    if (isSeq(needs)) needs.flow = true;
    if (atIndex === undefined || atIndex >= steps.items.length) steps.items.push(node);
    else steps.items.splice(Math.max(0, atIndex), 0, node);
  });
}

/** Deletes a step and every `needs:` entry naming it. */
export function deleteStep(text: string, id: string): string {
  return editDocument(text, (doc) => {
    for (const key of ['steps', 'on_failure']) {
      const seq = seqAt(doc, key, false);
      if (!seq) continue;
      seq.items = seq.items.filter((item) => !(isMap(item) && String(item.get('id')) === id));
      for (const step of seq.items.filter(isMap) as YAMLMap[]) {
        const needs = needsOf(step);
        if (needs.includes(id)) setNeeds(doc, step, needs.filter((name) => name !== id));
      }
    }
  });
}

/** `to` waits for `from` (a `needs:` entry). */
export function connect(text: string, from: string, to: string): string {
  if (from === to) throw new EditRefused('a step cannot wait for itself');
  return editDocument(text, (doc) => {
    const step = findStep(doc, to);
    findStep(doc, from);
    const needs = needsOf(step);
    if (!needs.includes(from)) setNeeds(doc, step, [...needs, from]);
  });
}

export function disconnect(text: string, from: string, to: string): string {
  return editDocument(text, (doc) => {
    const step = findStep(doc, to);
    setNeeds(doc, step, needsOf(step).filter((name) => name !== from));
  });
}

/** Moves a main step to another place in `steps:` (file order decides the order of effects). */
export function moveStep(text: string, id: string, toIndex: number): string {
  return editDocument(text, (doc) => {
    const steps = seqAt(doc, 'steps', false);
    if (!steps) throw new EditRefused('there are no steps');
    const from = steps.items.findIndex((item) => isMap(item) && String(item.get('id')) === id);
    if (from < 0) throw new EditRefused(`no step \`${id}\``);
    const [item] = steps.items.splice(from, 1);
    steps.items.splice(Math.max(0, Math.min(toIndex, steps.items.length)), 0, item);
  });
}

/** Sets (or, with `undefined`, removes) one of a step's own keys: `action`, `if`, `loop`, `output`, `id`... */
export function setStepField(text: string, id: string, key: string, value: YamlValue | undefined): string {
  return editDocument(text, (doc) => {
    const step = findStep(doc, id);
    if (value === undefined || value === '') step.delete(key);
    else step.set(key, doc.createNode(value));
    if (key === 'id' && typeof value === 'string' && value) {
      for (const other of stepsOf(doc)) {
        const needs = needsOf(other);
        if (needs.includes(id)) setNeeds(doc, other, needs.map((name) => (name === id ? value : name)));
      }
    }
  });
}

/** Sets (or removes) one input of a step. */
export function setStepInput(text: string, id: string, key: string, value: YamlValue | undefined): string {
  return editDocument(text, (doc) => {
    const step = findStep(doc, id);
    let input: unknown = step.get('input', true);
    if (value === undefined) {
      if (isMap(input)) {
        input.delete(key);
        if (input.items.length === 0) step.delete('input');
      }
      return;
    }
    if (!isMap(input)) {
      input = doc.createNode({}) as YAMLMap;
      step.set('input', input);
    }
    const existing = (input as YAMLMap).get(key, true);
    if (isScalar(existing) && typeof value !== 'object') existing.value = value;
    else (input as YAMLMap).set(key, doc.createNode(value));
  });
}

export function addTrigger(text: string, trigger: Record<string, YamlValue>): string {
  return editDocument(text, (doc) => {
    seqAt(doc, 'triggers', true)!.items.push(doc.createNode(trigger));
  });
}

export function deleteTrigger(text: string, index: number): string {
  return editDocument(text, (doc) => {
    const triggers = seqAt(doc, 'triggers', false);
    if (!triggers || !triggers.items[index]) throw new EditRefused(`no trigger #${index + 1}`);
    triggers.items.splice(index, 1);
    if (triggers.items.length === 0) doc.delete('triggers');
  });
}

export function setTriggerField(text: string, index: number, key: string, value: YamlValue | undefined): string {
  return editDocument(text, (doc) => {
    const trigger = seqAt(doc, 'triggers', false)?.items[index];
    if (!isMap(trigger)) throw new EditRefused(`no trigger #${index + 1}`);
    if (value === undefined || value === '') trigger.delete(key);
    else {
      const existing = trigger.get(key, true);
      if (isScalar(existing) && typeof value !== 'object') existing.value = value;
      else trigger.set(key, doc.createNode(value));
    }
  });
}

/** Sets (or removes) a workflow variable. */
export function setVariable(text: string, name: string, value: YamlValue | undefined): string {
  return editDocument(text, (doc) => {
    let variables: unknown = doc.get('variables', true);
    if (value === undefined) {
      if (isMap(variables)) {
        variables.delete(name);
        if (variables.items.length === 0) doc.delete('variables');
      }
      return;
    }
    if (!isMap(variables)) {
      variables = doc.createNode({}) as YAMLMap;
      doc.set('variables', variables);
    }
    const existing = (variables as YAMLMap).get(name, true);
    if (isScalar(existing) && typeof value !== 'object') existing.value = value;
    else (variables as YAMLMap).set(name, doc.createNode(value));
  });
}

/** The plain values of the document (for the inspector's fields). */
export function readWorkflow(text: string): Record<string, unknown> | undefined {
  const doc = parseDocument(text);
  const json = doc.toJSON() as unknown;
  return json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
}
