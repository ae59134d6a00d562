import { describe, expect, it } from 'vitest';
import { buildModel, type CatalogueAction, expressionSuggestions, schemaSuggestions, yamlPathAt } from './completion';

const ACTIONS: CatalogueAction[] = [
  {
    name: 'fs/list',
    description: 'List files',
    inputs: [{ name: 'path', type: { kind: 'string' }, required: true, description: 'Folder', kind: 'value' }],
    output: { kind: 'fixed', type: { kind: 'object', fields: { files: { kind: 'list' }, count: { kind: 'int' } } } },
    effect: 'read',
    open_inputs: false,
  },
];
const FUNCTIONS = [{ name: 'len', group: 'general', signature: 'len(value: string | list | object) -> int', description: 'Length', example: 'len(x)' }];
const TEXT = `name: demo
triggers:
  - type: webhook
    path: /x
variables:
  folder: /tmp
steps:
  - id: list
    action: fs/list
    output: found
    input:
      path: x
`;

describe('expression completion', () => {
  const model = buildModel(TEXT, ACTIONS, FUNCTIONS);
  const labels = (before: string) => expressionSuggestions(model, before)?.options.map((option) => option.label);

  it('offers steps, outputs, variables, roots and functions with signatures at the start of a name', () => {
    const found = expressionSuggestions(model, 'message: "${le')!;
    expect(found.from).toBe('message: "${'.length);
    expect(found.options.map((o) => o.label)).toEqual(expect.arrayContaining(['list', 'found', 'folder', 'steps', 'trigger', 'len']));
    expect(found.options.find((o) => o.label === 'len')?.detail).toBe('len(value: string | list | object) -> int');
  });

  it('offers the fields of a step output by its type', () => {
    expect(labels('x: ${list.')).toEqual(['files', 'count']);
    expect(labels('x: ${found.')).toEqual(['files', 'count']);
    expect(labels('x: ${steps.list.')).toEqual(['output', 'files', 'count']);
    expect(labels('x: ${steps.')).toEqual(['list']);
  });

  it('offers the fields the declared triggers give', () => {
    expect(labels('x: ${trigger.')).toEqual(['type', 'body', 'headers', 'query', 'method', 'path']);
  });

  it('offers nothing outside ${...}', () => {
    expect(expressionSuggestions(model, 'x: ${a} and li')).toBeNull();
  });
});

describe('schema completion', () => {
  const schema = {
    type: 'object',
    properties: { name: { type: 'string' }, steps: { type: 'array', items: { $ref: '#/$defs/Step' } }, triggers: { type: 'array', items: { $ref: '#/$defs/Trigger' } } },
    $defs: {
      Step: { type: 'object', properties: { id: { type: 'string' }, action: { type: 'string', enum: ['fs/list', 'log'] }, input: { type: 'object' } } },
      Trigger: { oneOf: [{ properties: { type: { const: 'schedule' }, cron: { type: 'string' } } }, { properties: { type: { const: 'webhook' }, path: { type: 'string' } } }] },
    },
  };

  it('knows the path of the line being typed from indentation', () => {
    expect(yamlPathAt(TEXT + '      ', TEXT.length + 6).path).toEqual(['steps', '0', 'input']);
    expect(yamlPathAt(TEXT + '    ', TEXT.length + 4).path).toEqual(['steps', '0']);
    expect(yamlPathAt(TEXT + '  - ', TEXT.length + 4).path).toEqual(['steps', '0']);
  });

  it('offers a step key and, after `action: `, the actions', () => {
    expect(schemaSuggestions(schema, TEXT + '    ', TEXT.length + 4).map((o) => o.label)).toEqual(['id', 'action', 'input']);
    const typed = TEXT + '  - action: ';
    expect(schemaSuggestions(schema, typed, typed.length).map((o) => o.label)).toEqual(['fs/list', 'log']);
    const trigger = 'triggers:\n  - type: ';
    expect(schemaSuggestions(schema, trigger, trigger.length).map((o) => o.label)).toEqual(['schedule', 'webhook']);
  });
});
