import { useState } from 'react';
import { LineCounter, parseDocument } from 'yaml';
import type { Diagnostic } from '../api/client';
import type { Outline, OutlineEdge, OutlineNode } from '../canvas/outline';
import type { CatalogueAction, CatalogueInput, CompletionModel } from './completion';
import { typeText } from './completion';
import type { EditorStore } from './EditorStore';
import { ExpressionInput } from './ExpressionInput';
import * as edits from './workflowEdits';

interface Props {
  store: EditorStore;
  text: string;
  graph: Outline | undefined;
  selectedNode: OutlineNode | undefined;
  selectedEdge: OutlineEdge | undefined;
  diagnostics: Diagnostic[];
  actions: CatalogueAction[];
  model: CompletionModel;
}

export function Inspector(props: Props) {
  const { selectedNode, selectedEdge } = props;
  let body;
  if (selectedEdge) body = <EdgeInspector {...props} edge={selectedEdge} />;
  else if (selectedNode?.kind === 'trigger') body = <TriggerInspector {...props} node={selectedNode} />;
  else if (selectedNode) body = <StepInspector key={selectedNode.id} {...props} node={selectedNode} />;
  else body = <WorkflowInspector {...props} />;
  return (
    <aside className="panel inspector" aria-label="Inspector">
      {body}
    </aside>
  );
}

/** Diagnostics whose place is within a node's lines. */
function diagnosticsIn(node: OutlineNode, diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.filter((d) => d.line >= node.range.start.line && d.line <= node.range.end.line);
}

function DiagnosticList({ diagnostics }: { diagnostics: Diagnostic[] }) {
  if (!diagnostics.length) return null;
  return (
    <div role="group" aria-label="Problems">
      {diagnostics.map((d, index) => (
        <div key={index} className={`diag ${d.severity}`} data-code={d.code}>
          <strong>{d.code}</strong> {d.message}
          {d.hint && <div>help: {d.hint}</div>}
          <div className="small">line {d.line}:{d.column}</div>
        </div>
      ))}
    </div>
  );
}

/** The line each input key of a step is written on (to put a diagnostic beside its field). */
function inputLines(text: string, node: OutlineNode): Map<string, number> {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  const list = node.on_failure ? 'on_failure' : 'steps';
  const input = doc.getIn([list, node.index, 'input'], true) as { items?: Array<{ key?: { value?: unknown; range?: number[] } }> } | undefined;
  const lines = new Map<string, number>();
  for (const pair of input?.items ?? []) {
    const start = pair.key?.range?.[0];
    if (start !== undefined) lines.set(String(pair.key?.value), counter.linePos(start).line);
  }
  return lines;
}

function shown(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A field's text as the YAML value its type wants: numbers and booleans as such, the rest as text. */
function typed(text: string, input: CatalogueInput | undefined): edits.YamlValue {
  const kind = input?.type.kind;
  if ((kind === 'int' || kind === 'number' || kind === 'float') && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (kind === 'bool' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

function StepInspector({ store, text, node, diagnostics, actions, model, graph }: Props & { node: OutlineNode }) {
  const workflow = edits.readWorkflow(text);
  const list = (node.on_failure ? workflow?.on_failure : workflow?.steps) as Array<Record<string, unknown>> | undefined;
  const step = list?.[node.index] ?? {};
  const stepId = String(step.id ?? node.id);
  const action = actions.find((a) => a.name === String(step.action ?? '').replace(/^notification\//, 'notify/'));
  const input = (step.input && typeof step.input === 'object' ? step.input : {}) as Record<string, unknown>;
  const mine = diagnosticsIn(node, diagnostics);
  const lines = inputLines(text, node);
  const [newField, setNewField] = useState('');
  const needs = Array.isArray(step.needs) ? step.needs.map(String) : step.needs ? [String(step.needs)] : [];
  const otherSteps = (graph?.nodes ?? []).filter((n) => n.kind !== 'trigger' && n.id !== node.id && !needs.includes(n.id));

  const setField = (key: string, value: string) => store.change((t) => edits.setStepField(t, stepId, key, value), `${stepId}.${key}`);
  const setInput = (key: string, value: edits.YamlValue | undefined) => store.change((t) => edits.setStepInput(t, stepId, key, value), `${stepId}.input.${key}`);
  const fieldDiagnostics = (key: string) => mine.filter((d) => d.line === lines.get(key));

  const declared = action?.inputs ?? [];
  const extra = Object.keys(input).filter((key) => !declared.some((d) => d.name === key));
  const fieldFor = (key: string, definition: CatalogueInput | undefined) => {
    const value = input[key];
    const problems = fieldDiagnostics(key);
    const fieldId = `input-${stepId}-${key}`;
    const complex = value !== null && typeof value === 'object';
    return (
      <div key={key} className={`field${problems.length ? ' has-error' : ''}`} data-field={key}>
        <label htmlFor={fieldId}>
          {key}
          {definition?.required ? ' *' : ''} <span className="muted">{typeText(definition?.type)}</span>
        </label>
        {complex ? (
          <p className="muted small">A {Array.isArray(value) ? 'list' : 'mapping'}: edit it in the YAML pane.</p>
        ) : (
          <ExpressionInput
            id={fieldId}
            label={key}
            value={shown(value)}
            model={model}
            invalid={problems.length > 0}
            multiline={key === 'message' || key === 'body' || key === 'prompt' || key === 'command'}
            onChange={(next) => setInput(key, typed(next, definition))}
          />
        )}
        {definition?.description && <div className="hint">{definition.description}</div>}
        <DiagnosticList diagnostics={problems} />
        {value !== undefined && !definition?.required && (
          <button type="button" className="small" onClick={() => setInput(key, undefined)}>
            Remove {key}
          </button>
        )}
      </div>
    );
  };

  return (
    <div data-inspector="step">
      <h2>Step {stepId}</h2>
      <DiagnosticList diagnostics={mine.filter((d) => ![...lines.values()].includes(d.line))} />
      <div className="field">
        <label htmlFor="step-id">id</label>
        <input id="step-id" value={stepId} onChange={(e) => store.change((t) => edits.setStepField(t, stepId, 'id', e.target.value)) && store.select({ kind: 'node', id: e.target.value })} />
      </div>
      <div className="field">
        <label htmlFor="step-action">action</label>
        <select id="step-action" value={String(step.action ?? '')} onChange={(e) => setField('action', e.target.value)}>
          {!action && <option value={String(step.action ?? '')}>{String(step.action ?? '(none)')}</option>}
          {actions.map((a) => (
            <option key={a.name} value={a.name}>
              {a.name}
            </option>
          ))}
        </select>
        {action && <div className="hint">{action.description}</div>}
      </div>
      <h3>Input</h3>
      {declared.map((definition) => fieldFor(definition.name, definition))}
      {extra.map((key) => fieldFor(key, undefined))}
      {action?.open_inputs && (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (newField.trim()) setInput(newField.trim(), '');
            setNewField('');
          }}
        >
          <input aria-label="New input field name" placeholder="field name" value={newField} onChange={(e) => setNewField(e.target.value)} />
          <button type="submit">Add field</button>
        </form>
      )}
      <h3>Flow</h3>
      {(['output', 'if', 'loop'] as const).map((key) => (
        <div key={key} className="field">
          <label htmlFor={`step-${key}`}>{key === 'if' ? 'if (condition)' : key === 'loop' ? 'loop (items)' : 'output name'}</label>
          {key === 'output' ? (
            <input id={`step-${key}`} value={shown(step[key])} onChange={(e) => setField(key, e.target.value)} />
          ) : (
            <ExpressionInput id={`step-${key}`} label={key} value={shown(step[key])} model={model} onChange={(value) => setField(key, value)} />
          )}
        </div>
      ))}
      <div className="field">
        <span className="muted small">needs (waits for)</span>
        <div className="chips">
          {needs.map((name) => (
            <span key={name} className="chip">
              {name}
              <button type="button" aria-label={`Stop waiting for ${name}`} onClick={() => store.change((t) => edits.disconnect(t, name, stepId))}>
                ×
              </button>
            </span>
          ))}
        </div>
        {otherSteps.length > 0 && (
          <select aria-label="Wait for another step" value="" onChange={(e) => e.target.value && store.change((t) => edits.connect(t, e.target.value, stepId))}>
            <option value="">Wait for…</option>
            {otherSteps.map((n) => (
              <option key={n.id} value={n.id}>
                {n.id}
              </option>
            ))}
          </select>
        )}
      </div>
      <div className="row">
        <button type="button" onClick={() => store.change((t) => edits.moveStep(t, stepId, node.index - 1))} disabled={node.index === 0 || node.on_failure}>
          Move up
        </button>
        <button type="button" onClick={() => store.change((t) => edits.moveStep(t, stepId, node.index + 1))} disabled={node.on_failure}>
          Move down
        </button>
        <button type="button" className="danger" onClick={() => store.change((t) => edits.deleteStep(t, stepId)) && store.select(null)}>
          Delete step
        </button>
      </div>
    </div>
  );
}

const TRIGGER_FIELDS: Record<string, string[]> = {
  schedule: ['cron', 'timezone', 'catch_up'],
  webhook: ['path', 'method'],
  file_watch: ['path', 'pattern', 'events'],
  manual: [],
};

function TriggerInspector({ store, text, node, diagnostics }: Props & { node: OutlineNode }) {
  const triggers = (edits.readWorkflow(text)?.triggers ?? []) as Array<Record<string, unknown>>;
  const trigger = triggers[node.index] ?? {};
  const type = String(trigger.type ?? node.type ?? '');
  return (
    <div data-inspector="trigger">
      <h2>Trigger #{node.index + 1}</h2>
      <DiagnosticList diagnostics={diagnosticsIn(node, diagnostics)} />
      <div className="field">
        <label htmlFor="trigger-type">type</label>
        <select id="trigger-type" value={type} onChange={(e) => store.change((t) => edits.setTriggerField(t, node.index, 'type', e.target.value))}>
          {Object.keys(TRIGGER_FIELDS).map((kind) => (
            <option key={kind}>{kind}</option>
          ))}
        </select>
      </div>
      {(TRIGGER_FIELDS[type] ?? []).map((key) => (
        <div key={key} className="field">
          <label htmlFor={`trigger-${key}`}>{key}</label>
          <input
            id={`trigger-${key}`}
            value={shown(trigger[key])}
            onChange={(e) => store.change((t) => edits.setTriggerField(t, node.index, key, e.target.value), `trigger${node.index}.${key}`)}
          />
        </div>
      ))}
      <button type="button" className="danger" onClick={() => store.change((t) => edits.deleteTrigger(t, node.index)) && store.select(null)}>
        Delete trigger
      </button>
    </div>
  );
}

const EDGE_EXPLANATION: Record<OutlineEdge['reason'], string> = {
  trigger: 'The trigger starts this step: it waits for no other step.',
  needs: 'Written in the step’s `needs:`: it waits for the other step to finish. You can remove it.',
  data: 'The step reads the other step’s result in an expression, so it runs after it. Change the expression to remove this edge.',
  effect: 'Both steps touch the world (write or read), so they keep their file order. Reorder the steps to change it.',
};

function EdgeInspector({ store, edge }: Props & { edge: OutlineEdge }) {
  return (
    <div data-inspector="edge">
      <h2>
        {edge.from} → {edge.to}
      </h2>
      <p>
        <span className="badge">{edge.reason}</span> {edge.label}
      </p>
      <p>{EDGE_EXPLANATION[edge.reason]}</p>
      {edge.editable && (
        <button type="button" className="danger" onClick={() => store.change((t) => edits.disconnect(t, edge.from, edge.to)) && store.select(null)}>
          Remove this needs
        </button>
      )}
    </div>
  );
}

function WorkflowInspector({ store, text, diagnostics }: Props) {
  const workflow = edits.readWorkflow(text) ?? {};
  const variables = (workflow.variables && typeof workflow.variables === 'object' ? workflow.variables : {}) as Record<string, unknown>;
  const [name, setName] = useState('');
  return (
    <div data-inspector="workflow">
      <h2>Workflow</h2>
      <p className="muted small">Select a node to edit it. Add steps from the palette; drag from a node’s lower dot to another node to make it wait.</p>
      <DiagnosticList diagnostics={diagnostics.filter((d) => d.severity === 'error').slice(0, 5)} />
      <h3>Variables</h3>
      {Object.entries(variables).map(([key, value]) => (
        <div key={key} className="field">
          <label htmlFor={`var-${key}`}>{key}</label>
          <div className="row">
            <input id={`var-${key}`} value={shown(value)} onChange={(e) => store.change((t) => edits.setVariable(t, key, e.target.value), `var.${key}`)} />
            <button type="button" aria-label={`Remove variable ${key}`} onClick={() => store.change((t) => edits.setVariable(t, key, undefined))}>
              ×
            </button>
          </div>
        </div>
      ))}
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (/^[A-Za-z_]\w*$/.test(name)) store.change((t) => edits.setVariable(t, name, ''));
          setName('');
        }}
      >
        <input aria-label="New variable name" placeholder="name" value={name} onChange={(e) => setName(e.target.value)} />
        <button type="submit">Add variable</button>
      </form>
    </div>
  );
}
