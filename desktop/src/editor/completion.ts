// What the editor offers while typing: inside `${...}`, the names an expression can read (steps, their outputs
// and fields, variables, inputs, trigger fields, loop items) and the functions with their signatures; elsewhere
// in the YAML, the keys and values the workflow JSON Schema allows at that place. Pure functions of the text.
import { parseDocument } from 'yaml';
import type { FunctionInfo } from '../api/client';

export interface CatalogueType {
  kind: string;
  fields?: Record<string, CatalogueType>;
  of?: CatalogueType;
}
export interface CatalogueInput {
  name: string;
  type: CatalogueType;
  required: boolean;
  description: string;
  kind: string;
}
export interface CatalogueAction {
  name: string;
  description: string;
  inputs: CatalogueInput[];
  output: { kind: string; type?: CatalogueType; field?: string };
  effect: string;
  open_inputs: boolean;
}

export interface Suggestion {
  label: string;
  detail?: string;
  info?: string;
  /** The text put in place of what was typed; default the label. */
  apply?: string;
  type: 'step' | 'variable' | 'field' | 'function' | 'keyword' | 'property' | 'value';
}

export interface CompletionModel {
  steps: Array<{ id: string; output?: string; type?: CatalogueType }>;
  variables: string[];
  inputs: string[];
  triggerFields: string[];
  functions: FunctionInfo[];
}

const TRIGGER_FIELDS: Record<string, string[]> = {
  webhook: ['body', 'headers', 'query', 'method', 'path'],
  schedule: ['scheduled_at', 'cron'],
  file_watch: ['event'],
};

export function typeText(type: CatalogueType | undefined): string {
  if (!type) return 'any';
  if (type.kind === 'list') return `list<${typeText(type.of)}>`;
  if (type.kind === 'object' && type.fields) return `{${Object.keys(type.fields).join(', ')}}`;
  return type.kind;
}

function outputType(action: CatalogueAction | undefined, input: Record<string, unknown> | undefined): CatalogueType | undefined {
  if (!action) return undefined;
  if (action.output.kind === 'fixed') return action.output.type;
  if (action.output.kind === 'input_object') {
    const fields: Record<string, CatalogueType> = {};
    for (const key of Object.keys(input ?? {})) fields[key] = { kind: 'any' };
    return { kind: 'object', fields };
  }
  return undefined;
}

/** The names a workflow's expressions can read, from its text (best effort: broken YAML gives what it can). */
export function buildModel(text: string, actions: CatalogueAction[], functions: FunctionInfo[]): CompletionModel {
  const json = (parseDocument(text).toJSON() ?? {}) as Record<string, unknown>;
  const byName = new Map(actions.map((action) => [action.name, action]));
  const asList = (value: unknown) => (Array.isArray(value) ? (value as Record<string, unknown>[]) : []);
  const steps = asList(json.steps)
    .filter((step) => step && typeof step.id === 'string')
    .map((step) => ({
      id: String(step.id),
      output: typeof step.output === 'string' ? step.output : undefined,
      type: outputType(byName.get(String(step.action ?? '').replace(/^notification\//, 'notify/')) ?? byName.get(String(step.action ?? '')), step.input as Record<string, unknown>),
    }));
  const triggerTypes = asList(json.triggers).map((trigger) => String(trigger?.type ?? ''));
  const triggerFields = ['type', ...new Set(triggerTypes.flatMap((type) => TRIGGER_FIELDS[type] ?? []))];
  const objectKeys = (value: unknown) => (value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : []);
  return { steps, variables: objectKeys(json.variables), inputs: objectKeys(json.inputs), triggerFields, functions };
}

/** Where a `${...}` being typed starts in `before` (the text up to the cursor), or -1 when not inside one. */
export function openExpression(before: string): number {
  const open = before.lastIndexOf('${');
  if (open < 0) return -1;
  return before.indexOf('}', open) < 0 ? open + 2 : -1;
}

function fieldsOf(type: CatalogueType | undefined): Suggestion[] {
  const fields = type?.kind === 'object' ? type.fields : type?.kind === 'list' && type.of?.kind === 'object' ? undefined : undefined;
  return Object.entries(fields ?? {}).map(([name, field]) => ({ label: name, detail: typeText(field), type: 'field' as const }));
}

/**
 * Suggestions for the name being typed at the end of `before`, inside `${...}`: returns the offset in `before`
 * where the replaced word starts, or null outside an expression.
 */
export function expressionSuggestions(model: CompletionModel, before: string): { from: number; options: Suggestion[] } | null {
  const start = openExpression(before);
  if (start < 0) return null;
  const expression = before.slice(start);
  const match = /([A-Za-z_][\w]*(?:\.[\w]*)*)$/.exec(expression) ?? (/(^|[^\w.])$/.test(expression) ? ['', ''] : null);
  if (!match) return null;
  const path = match[1] ?? '';
  const dot = path.lastIndexOf('.');
  const from = before.length - (dot >= 0 ? path.length - dot - 1 : path.length);
  if (dot < 0) return { from, options: rootSuggestions(model) };
  const parts = path.slice(0, dot).split('.');
  return { from, options: memberSuggestions(model, parts) };
}

function rootSuggestions(model: CompletionModel): Suggestion[] {
  const options: Suggestion[] = [];
  for (const step of model.steps) {
    options.push({ label: step.id, detail: `step · ${typeText(step.type)}`, type: 'step' });
    if (step.output && step.output !== step.id) options.push({ label: step.output, detail: `output of ${step.id}`, type: 'step' });
  }
  for (const variable of model.variables) options.push({ label: variable, detail: 'variable', type: 'variable' });
  options.push({ label: 'steps', detail: 'every step by id', type: 'keyword' });
  if (model.inputs.length) options.push({ label: 'inputs', detail: model.inputs.join(', '), type: 'keyword' });
  options.push({ label: 'trigger', detail: model.triggerFields.join(', '), type: 'keyword' });
  options.push({ label: 'item', detail: 'the element of a loop', type: 'keyword' });
  options.push({ label: 'index', detail: 'the position in a loop', type: 'keyword' });
  for (const fn of model.functions) {
    options.push({ label: fn.name, detail: fn.signature, info: fn.description, apply: `${fn.name}(`, type: 'function' });
  }
  return options;
}

function memberSuggestions(model: CompletionModel, parts: string[]): Suggestion[] {
  const [head, ...rest] = parts;
  if (head === 'steps' && rest.length === 0) return model.steps.map((step) => ({ label: step.id, detail: typeText(step.type), type: 'step' }));
  if (head === 'steps' && rest.length === 1) {
    const step = model.steps.find((candidate) => candidate.id === rest[0]);
    return [{ label: 'output', detail: typeText(step?.type), type: 'field' }, ...fieldsOf(step?.type)];
  }
  if (head === 'steps' && rest.length === 2 && rest[1] === 'output') {
    return fieldsOf(model.steps.find((candidate) => candidate.id === rest[0])?.type);
  }
  if (head === 'inputs') return model.inputs.map((name) => ({ label: name, detail: 'input', type: 'variable' }));
  if (head === 'trigger') return model.triggerFields.map((name) => ({ label: name, detail: 'trigger field', type: 'field' }));
  const step = model.steps.find((candidate) => candidate.id === head || candidate.output === head);
  if (step && rest.length === 0) return fieldsOf(step.type);
  return [];
}

// ---- the JSON Schema side ----

export type JsonSchema = Record<string, unknown>;

/** The YAML keys leading to the line being typed (`['steps', '0', 'input']`), read from indentation. */
export function yamlPathAt(text: string, offset: number): { path: string[]; atValueOf?: string } {
  const lines = text.slice(0, offset).split('\n');
  const current = lines.pop() ?? '';
  const valueMatch = /^\s*(?:-\s+)?([\w-]+):\s+[^\s#]*$/.exec(current);
  const path: string[] = [];
  const currentDash = /^(\s*)-\s/.exec(current);
  let limit = current.length - current.trimStart().length;
  if (currentDash) {
    path.unshift('0');
    limit = currentDash[1].length;
  }
  for (let i = lines.length - 1; i >= 0 && limit > 0; i--) {
    const line = lines[i];
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    const dashed = /^(\s*)-\s+(.*)$/.exec(line);
    if (dashed) {
      const dashColumn = dashed[1].length;
      const contentColumn = dashColumn + 2;
      if (dashColumn >= limit || contentColumn > limit) continue;
      const key = /^([\w-]+):\s*(#.*)?$/.exec(dashed[2]);
      if (contentColumn < limit && key) path.unshift(key[1]);
      path.unshift('0');
      limit = dashColumn;
      continue;
    }
    const indent = line.length - line.trimStart().length;
    if (indent >= limit) continue;
    const key = /^\s*([\w-]+):/.exec(line);
    if (key) path.unshift(key[1]);
    limit = indent;
  }
  return { path, atValueOf: valueMatch?.[1] };
}

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema[] {
  const ref = schema.$ref as string | undefined;
  if (ref?.startsWith('#/$defs/')) return resolve(((root.$defs as Record<string, JsonSchema>) ?? {})[ref.slice(8)] ?? {}, root);
  const alternatives = [...((schema.anyOf as JsonSchema[]) ?? []), ...((schema.oneOf as JsonSchema[]) ?? []), ...((schema.allOf as JsonSchema[]) ?? [])];
  if (alternatives.length) return alternatives.flatMap((alternative) => resolve(alternative, root));
  return [schema];
}

/** The schemas that apply at a path of keys (and `0` for any list element). */
export function schemasAt(root: JsonSchema, path: string[]): JsonSchema[] {
  let current = resolve(root, root);
  for (const key of path) {
    current = current.flatMap((schema) => {
      if (key === '0' && schema.items) return resolve(schema.items as JsonSchema, root);
      const property = (schema.properties as Record<string, JsonSchema> | undefined)?.[key];
      if (property) return resolve(property, root);
      const additional = schema.additionalProperties;
      if (additional && typeof additional === 'object') return resolve(additional as JsonSchema, root);
      return [];
    });
  }
  return current;
}

/** Keys (or, after `key: `, values) the schema allows at the cursor. */
export function schemaSuggestions(root: JsonSchema, text: string, offset: number): Suggestion[] {
  const { path, atValueOf } = yamlPathAt(text, offset);
  if (atValueOf) {
    const values = schemasAt(root, [...path, atValueOf]).flatMap((schema) => [
      ...((schema.enum as unknown[]) ?? []),
      ...(schema.const !== undefined ? [schema.const] : []),
    ]);
    return [...new Set(values.map(String))].map((value) => ({ label: value, type: 'value' as const }));
  }
  const seen = new Set<string>();
  const options: Suggestion[] = [];
  for (const schema of schemasAt(root, path)) {
    for (const [name, property] of Object.entries((schema.properties as Record<string, JsonSchema>) ?? {})) {
      if (seen.has(name)) continue;
      seen.add(name);
      const description = (property.description as string | undefined) ?? '';
      options.push({ label: name, apply: `${name}: `, detail: typeof property.type === 'string' ? property.type : undefined, info: description, type: 'property' });
    }
  }
  return options;
}
