import { type KeyboardEvent, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { api, ApiFailure, call } from '../api/client';
import { href, navigate } from '../app/router';
import type { OutlineEdge } from '../canvas/outline';
import { edgeId } from '../canvas/outline';
import { WorkflowCanvas } from '../canvas/WorkflowCanvas';
import { buildModel } from './completion';
import { EditorStore } from './EditorStore';
import { Inspector } from './Inspector';
import { Palette } from './Palette';
import { type EditorResources, loadResources } from './resources';
import * as edits from './workflowEdits';
import { YamlPane } from './YamlPane';

const NEW_WORKFLOW = `name: my-workflow
description: What this workflow does

triggers:
  - type: manual

steps:
`;

/** A message that outlives the reload after the first save of a new workflow (its page changes). */
let flash: { ok: boolean; text: string } | undefined;

async function check(text: string) {
  return call(api.POST('/api/v1/check', { body: { source: text, file_name: null } }));
}

/** The visual builder: palette, canvas, inspector and YAML pane over one EditorStore. */
export default function EditorPage({ name }: { name?: string }) {
  const [loaded, setLoaded] = useState<{ for?: string; store: EditorStore; resources: EditorResources } | { for?: string; error: string }>();
  useEffect(() => {
    let live = true;
    let store: EditorStore | undefined;
    setLoaded(undefined);
    Promise.all([name ? call(api.GET('/api/v1/workflows/{name}', { params: { path: { name } } })) : Promise.resolve(undefined), loadResources()]).then(
      ([detail, resources]) => {
        if (!live) return;
        store = new EditorStore(detail?.source ?? NEW_WORKFLOW, check);
        (window as unknown as { pilotEditor?: EditorStore }).pilotEditor = store;
        setLoaded({ for: name, store, resources });
      },
      (err: unknown) => live && setLoaded({ for: name, error: err instanceof Error ? err.message : String(err) }),
    );
    return () => {
      live = false;
      store?.dispose();
    };
  }, [name]);
  // Until the effect for a new name has run, `loaded` still holds the previous workflow's editor.
  if (!loaded || loaded.for !== name) return <p className="loading">Loading the editor…</p>;
  if ('error' in loaded) {
    return (
      <div className="page">
        <p className="error" role="alert">
          {loaded.error}
        </p>
        <a href={href('workflows')}>Back to the workflows</a>
      </div>
    );
  }
  return <Editor key={name ?? 'new'} name={name} store={loaded.store} resources={loaded.resources} />;
}

function Editor({ name, store, resources }: { name?: string; store: EditorStore; resources: EditorResources }) {
  const state = useSyncExternalStore(store.subscribe, store.getState);
  const [busy, setBusy] = useState<string>();
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>(() => {
    const kept = flash;
    flash = undefined;
    return kept;
  });
  const model = useMemo(() => buildModel(state.text, resources.actions, resources.functions), [state.text, resources]);
  const graph = state.graph;
  const selectedNode = state.selection?.kind === 'node' ? graph?.nodes.find((n) => n.id === (state.selection as { id: string }).id) : undefined;
  const selectedEdge = state.selection?.kind === 'edge' ? graph?.edges.find((e) => edgeId(e) === (state.selection as { id: string }).id) : undefined;
  const workflowName = String(edits.readWorkflow(state.text)?.name ?? name ?? '');
  const dirty = state.text !== state.savedText;
  const errors = state.diagnostics.filter((d) => d.severity === 'error');

  const errorsByNode = useMemo(() => {
    const found = new Map<string, string[]>();
    for (const node of graph?.nodes ?? []) {
      const mine = state.diagnostics.filter((d) => d.severity === 'error' && d.line >= node.range.start.line && d.line <= node.range.end.line);
      if (mine.length) found.set(node.id, mine.map((d) => `${d.code}: ${d.message}`));
    }
    return found;
  }, [graph, state.diagnostics]);

  const addStep = (action: string) => {
    const definition = resources.actions.find((a) => a.name === action);
    const input: Record<string, edits.YamlValue> = {};
    for (const field of definition?.inputs ?? []) if (field.required) input[field.name] = '';
    const id = edits.freshStepId(state.text, action.split('/').pop() ?? action);
    const after = selectedNode && selectedNode.kind !== 'trigger' ? [selectedNode.id] : undefined;
    if (store.change((text) => edits.addStep(text, { id, action, input, needs: after }))) store.select({ kind: 'node', id });
  };
  const addTrigger = (type: string) => {
    const defaults: Record<string, Record<string, edits.YamlValue>> = {
      manual: { type },
      schedule: { type, cron: '0 9 * * *' },
      webhook: { type, path: `/hooks/${workflowName || 'workflow'}` },
      file_watch: { type, path: '~/Downloads' },
    };
    store.change((text) => edits.addTrigger(text, defaults[type]));
  };
  const deleteNodes = (ids: string[]) => {
    const triggers = ids.filter((id) => id.startsWith('trigger:')).map((id) => Number(id.slice(8))).sort((a, b) => b - a);
    const steps = ids.filter((id) => !id.startsWith('trigger:'));
    store.change((text) => {
      let next = text;
      for (const index of triggers) next = edits.deleteTrigger(next, index);
      for (const id of steps) next = edits.deleteStep(next, id.replace(/#\d+$/, ''));
      return next;
    });
    store.select(null);
  };
  const deleteEdges = (removed: OutlineEdge[]) => {
    const editable = removed.filter((edge) => edge.editable);
    if (editable.length < removed.length) store.setNotice('Only needs edges can be removed; data and effect edges follow from the expressions and the file order.');
    if (editable.length) store.change((text) => editable.reduce((t, edge) => edits.disconnect(t, edge.from, edge.to), text));
  };

  const save = async () => {
    setBusy('save');
    setMessage(undefined);
    try {
      const saved = await call(api.POST('/api/v1/workflows', { body: { source: state.text, file_name: null } }));
      store.markSaved(state.text);
      setMessage({ ok: true, text: `Saved to ${saved.file}` });
      if (saved.name !== name) {
        flash = { ok: true, text: `Saved to ${saved.file}` };
        navigate(href('workflows', saved.name));
      }
    } catch (err) {
      if (err instanceof ApiFailure && err.diagnostics.length) {
        store.showDiagnostics(err.diagnostics);
        setMessage({ ok: false, text: `Not saved: ${err.message} (${err.diagnostics.length} problem${err.diagnostics.length === 1 ? '' : 's'} shown on the canvas and in the YAML)` });
      } else setMessage({ ok: false, text: `Not saved: ${err instanceof Error ? err.message : String(err)}` });
    } finally {
      setBusy(undefined);
    }
  };
  const run = async () => {
    setBusy('run');
    setMessage(undefined);
    try {
      const accepted = await call(api.POST('/api/v1/workflows/{name}/run', { params: { path: { name: workflowName } }, body: { inputs: {} } }));
      navigate(href('executions', accepted.execution_id));
    } catch (err) {
      setMessage({ ok: false, text: `Not started: ${err instanceof Error ? err.message : String(err)}` });
    } finally {
      setBusy(undefined);
    }
  };
  const onKeyDown = (event: KeyboardEvent) => {
    const target = event.target as HTMLElement;
    if (target.closest('.cm-editor, input, textarea, select')) return;
    const mod = event.ctrlKey || event.metaKey;
    if (mod && event.key.toLowerCase() === 'z' && !event.shiftKey) store.undo();
    else if (mod && (event.key.toLowerCase() === 'y' || (event.key.toLowerCase() === 'z' && event.shiftKey))) store.redo();
    else if (mod && event.key.toLowerCase() === 's') void save();
    else return;
    event.preventDefault();
  };

  const status = state.checkError
    ? `Cannot check: ${state.checkError}`
    : state.checkedText === undefined
      ? 'Checking…'
      : errors.length
        ? `${errors.length} error${errors.length === 1 ? '' : 's'}`
        : 'Compiles';
  return (
    <div className="editor-page" style={{ display: 'flex', flexDirection: 'column', flex: 1, minHeight: 0 }} onKeyDown={onKeyDown}>
      <div className="toolbar" role="toolbar" aria-label="Editor">
        <h1 style={{ fontSize: 16 }}>{workflowName || 'New workflow'}</h1>
        <span className={`badge ${errors.length ? 'status-failed' : state.checkedText !== undefined ? 'status-success' : ''}`} data-testid="check-status" aria-live="polite">
          {status}
        </span>
        {dirty && <span className="muted small">unsaved changes</span>}
        <span className="spacer" />
        <button type="button" onClick={() => store.undo()} disabled={!state.canUndo} aria-keyshortcuts="Control+Z">
          Undo
        </button>
        <button type="button" onClick={() => store.redo()} disabled={!state.canRedo} aria-keyshortcuts="Control+Y">
          Redo
        </button>
        <button type="button" className="primary" onClick={save} disabled={busy !== undefined} aria-keyshortcuts="Control+S">
          Save
        </button>
        <button type="button" onClick={run} disabled={busy !== undefined || dirty || !name} title={dirty ? 'Save first' : undefined}>
          Run
        </button>
        {name && <a href={href('executions') + `?workflow=${encodeURIComponent(name)}`}>Executions</a>}
      </div>
      {(message || state.notice) && (
        <div className={`notice ${message?.ok ? 'ok' : 'bad'}`} role={message?.ok ? 'status' : 'alert'} data-testid="editor-message">
          {state.notice ?? message?.text}
        </div>
      )}
      <div className="editor">
        <Palette actions={resources.actions} onAdd={addStep} onAddTrigger={addTrigger} />
        <section aria-label="Canvas" style={{ position: 'relative' }}>
          <WorkflowCanvas
            graph={graph}
            stale={state.graphStale}
            errorsByNode={errorsByNode}
            selectedNode={selectedNode?.id}
            editable
            emptyText="No steps yet: pick an action in the palette on the left."
            onSelectNode={(id) => store.select(id ? { kind: 'node', id } : null)}
            onSelectEdge={(edge) => store.select({ kind: 'edge', id: edgeId(edge) })}
            onConnect={(from, to) => {
              if (from.startsWith('trigger:')) store.setNotice('A trigger starts every step that waits for no other; connect steps to steps.');
              else store.change((text) => edits.connect(text, from, to));
            }}
            onDeleteNodes={deleteNodes}
            onDeleteEdges={deleteEdges}
            onDropAction={addStep}
          />
        </section>
        <Inspector
          store={store}
          text={state.text}
          graph={graph}
          selectedNode={selectedNode}
          selectedEdge={selectedEdge}
          diagnostics={state.diagnostics}
          actions={resources.actions}
          model={model}
        />
        <section className="yaml-pane" aria-label="YAML">
          <YamlPane store={store} text={state.text} revision={state.revision} diagnostics={state.diagnostics} model={model} schema={resources.schema} />
        </section>
      </div>
    </div>
  );
}
