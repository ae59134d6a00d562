import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, call, type ExecutionDetail, type LiveEvent, type StepDetail } from '../api/client';
import { followEvents } from '../api/events';
import { href, navigate } from '../app/router';
import type { StepRunState } from '../canvas/FlowNodes';
import { asOutline, type Outline } from '../canvas/outline';
import { WorkflowCanvas } from '../canvas/WorkflowCanvas';
import { formatDuration, formatTime, shortId, StatusBadge } from '../ui/format';
import { JsonView } from './JsonView';
import { LogView } from './LogView';

type Tab = 'step' | 'logs' | 'details';
const RUNNING = ['pending', 'running'];

/** Applies one live event to the steps' states. */
export function applyEvent(states: Record<string, StepRunState>, event: LiveEvent): Record<string, StepRunState> {
  const next = { ...states };
  switch (event.type) {
    case 'step_started':
      next[event.step_id] = { ...next[event.step_id], status: 'running' };
      break;
    case 'step_reused':
      next[event.step_id] = { ...next[event.step_id], status: event.status };
      break;
    case 'step_retrying':
      next[event.step_id] = { ...next[event.step_id], status: 'running', attempts: event.failed_attempt + 1 };
      break;
    case 'loop_progress':
      next[event.step_id] = { ...next[event.step_id], status: next[event.step_id]?.status ?? 'running', loop: { done: event.done, total: event.total } };
      break;
    case 'step_finished':
      next[event.step_id] = { ...next[event.step_id], status: event.status, attempts: event.attempts, duration_ms: event.duration_ms };
      break;
    default:
      return states;
  }
  return next;
}

function statesFrom(steps: StepDetail[]): Record<string, StepRunState> {
  const states: Record<string, StepRunState> = {};
  for (const step of steps) {
    const loop = Array.isArray(step.output) && Array.isArray(step.input) ? { done: step.output.length, total: step.input.length } : undefined;
    states[step.id] = { status: step.status, attempts: step.attempts, duration_ms: step.duration_ms, loop };
  }
  return states;
}

export default function ExecutionPage({ id }: { id: string }) {
  const [detail, setDetail] = useState<ExecutionDetail>();
  const [graph, setGraph] = useState<Outline>();
  const [states, setStates] = useState<Record<string, StepRunState>>({});
  const [error, setError] = useState<string>();
  const [selected, setSelected] = useState<string>();
  const [tab, setTab] = useState<Tab>('details');
  const [connected, setConnected] = useState(false);
  const refreshTimer = useRef<ReturnType<typeof setTimeout>>(undefined);

  const load = useCallback(async () => {
    try {
      const found = await call(api.GET('/api/v1/executions/{id}', { params: { path: { id } } }));
      setDetail(found);
      setStates((previous) => {
        const fresh = statesFrom(found.steps);
        // Keep live states of steps the store has not recorded yet (a running step).
        return { ...previous, ...fresh };
      });
      setError(undefined);
      return found;
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      return undefined;
    }
  }, [id]);

  useEffect(() => {
    setDetail(undefined);
    setStates({});
    setSelected(undefined);
    const refresh = () => {
      if (refreshTimer.current) return;
      refreshTimer.current = setTimeout(() => {
        refreshTimer.current = undefined;
        void load();
      }, 200);
    };
    // Follow first, then read: nothing that happens in between is missed.
    const stop = followEvents(
      (event) => {
        setStates((previous) => applyEvent(previous, event));
        if (event.type === 'step_finished' || event.type === 'finished' || event.type === 'started') refresh();
      },
      id,
      setConnected,
    );
    void load().then(async (found) => {
      if (!found) return;
      try {
        const workflow = await call(api.GET('/api/v1/workflows/{name}', { params: { path: { name: found.workflow } } }));
        const checked = await call(api.POST('/api/v1/check', { body: { source: workflow.source, file_name: null } }));
        setGraph(asOutline(checked.graph));
      } catch {
        // The workflow is gone: the steps list below still shows everything.
        setGraph({ nodes: found.steps.map((s, index) => ({ kind: 'action', id: s.id, index, range: { start: { line: 0, column: 0 }, end: { line: 0, column: 0 } }, type: null, summary: null, action: null, connector: null, condition: null, loop: null, output: null, inputs: [], on_failure: false })), edges: [], compiled: false });
      }
    });
    return () => {
      stop();
      if (refreshTimer.current) clearTimeout(refreshTimer.current);
      refreshTimer.current = undefined;
    };
  }, [id, load]);

  // Live statuses win while running; once finished, the stored record is the truth.
  const running = !!detail && RUNNING.includes(detail.status);
  const step = detail?.steps.find((s) => s.id === selected);
  const failed = detail?.steps.filter((s) => s.status === 'failed') ?? [];

  const select = (stepId: string | undefined) => {
    setSelected(stepId && !stepId.startsWith('trigger:') ? stepId : undefined);
    if (stepId && !stepId.startsWith('trigger:')) setTab('step');
  };

  if (error && !detail) {
    return (
      <div className="page">
        <p className="error" role="alert">{error}</p>
        <a href={href('executions')}>All executions</a>
      </div>
    );
  }
  if (!detail) return <p className="loading">Loading the execution…</p>;
  return (
    <div style={{ display: 'flex', flexDirection: 'column', flex: 1, minHeight: 0 }}>
      <div className="toolbar">
        <h1 style={{ fontSize: 16 }}>
          <a href={href('workflows', detail.workflow)}>{detail.workflow}</a> <span className="mono muted">{shortId(detail.id)}</span>
        </h1>
        <StatusBadge status={detail.status} />
        <span className="muted small">
          {formatTime(detail.started_at)} · {formatDuration(detail.duration_ms)} · {connected ? 'live' : 'reconnecting…'}
        </span>
        <span className="spacer" />
        {running && <CancelButton id={detail.id} onDone={load} />}
      </div>
      <div className="monitor">
        <section aria-label="Execution canvas" style={{ position: 'relative' }}>
          <WorkflowCanvas graph={graph} runStates={states} selectedNode={selected} editable={false} onSelectNode={select} />
        </section>
        <aside className="monitor-side" aria-label="Execution details">
          <div className="tabs" role="tablist">
            {(['details', 'step', 'logs'] as Tab[]).map((name) => (
              <button key={name} type="button" role="tab" aria-selected={tab === name} id={`tab-${name}`} aria-controls={`panel-${name}`} onClick={() => setTab(name)}>
                {name === 'details' ? 'Execution' : name === 'step' ? `Step${selected ? ` ${selected}` : ''}` : 'Logs'}
              </button>
            ))}
          </div>
          <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} style={{ display: 'flex', flexDirection: 'column', flex: 1, minHeight: 0, overflow: 'auto' }}>
            {tab === 'details' && <ExecutionDetails detail={detail} failed={failed} onSelect={select} />}
            {tab === 'step' && (step ? <StepPanel step={step} live={states[step.id]} /> : <p className="panel muted">Select a step on the canvas (or in the list under Execution) to see its input and output.</p>)}
            {tab === 'logs' && <LogView executionId={detail.id} running={running} />}
          </div>
        </aside>
      </div>
    </div>
  );
}

function CancelButton({ id, onDone }: { id: string; onDone: () => void }) {
  const [message, setMessage] = useState<string>();
  return (
    <>
      <button
        type="button"
        className="danger"
        onClick={async () => {
          try {
            const result = await call(api.POST('/api/v1/executions/{id}/cancel', { params: { path: { id } } }));
            setMessage(result.status);
            onDone();
          } catch (err) {
            setMessage(err instanceof Error ? err.message : String(err));
          }
        }}
      >
        Cancel
      </button>
      {message && <span className="small" role="status">{message}</span>}
    </>
  );
}

function ExecutionDetails({ detail, failed, onSelect }: { detail: ExecutionDetail; failed: StepDetail[]; onSelect: (id: string) => void }) {
  return (
    <div className="panel">
      {(detail.error || failed.length > 0) && (
        <section aria-label="Error" className="diag" style={{ marginBottom: 12 }}>
          <strong>What failed</strong>
          {failed.map((s) => (
            <div key={s.id}>
              step <button type="button" onClick={() => onSelect(s.id)}>{s.id}</button>: <span data-testid="step-error">{s.error}</span>
            </div>
          ))}
          {detail.error && failed.length === 0 && <div>{detail.error}</div>}
        </section>
      )}
      <dl className="kv">
        <dt>Status</dt>
        <dd><StatusBadge status={detail.status} /></dd>
        <dt>Workflow version</dt>
        <dd>{detail.workflow_version}</dd>
        <dt>Started</dt>
        <dd>{formatTime(detail.started_at)}</dd>
        <dt>Finished</dt>
        <dd>{formatTime(detail.completed_at)}</dd>
        {detail.retry_of && (
          <>
            <dt>Retry of</dt>
            <dd>
              <a href={href('executions', detail.retry_of)}>{shortId(detail.retry_of)}</a>
              {detail.retry_from ? ` from ${detail.retry_from}` : ''}
            </dd>
          </>
        )}
      </dl>
      {!RUNNING.includes(detail.status) && <RetryControls detail={detail} />}
      <h3>Steps</h3>
      <ul className="plain">
        {detail.steps.map((s) => (
          <li key={s.id} className="row" style={{ padding: '2px 0' }}>
            <button type="button" onClick={() => onSelect(s.id)} data-step={s.id}>{s.id}</button>
            <StatusBadge status={s.status} />
            <span className="muted small">{formatDuration(s.duration_ms)}{s.attempts > 1 ? ` · ${s.attempts} attempts` : ''}</span>
          </li>
        ))}
      </ul>
      <h3>Trigger</h3>
      <div className="json"><JsonView value={detail.trigger} /></div>
      <h3>Inputs</h3>
      <div className="json"><JsonView value={detail.input} /></div>
    </div>
  );
}

function RetryControls({ detail }: { detail: ExecutionDetail }) {
  const [from, setFrom] = useState<'failed' | 'start' | 'step'>(detail.status === 'failed' ? 'failed' : 'start');
  const [stepId, setStepId] = useState(detail.steps[0]?.id ?? '');
  const [version, setVersion] = useState<'ran' | 'current'>('ran');
  const [message, setMessage] = useState<string>();
  const retry = async () => {
    setMessage(undefined);
    try {
      const accepted = await call(
        api.POST('/api/v1/executions/{id}/retry', { params: { path: { id: detail.id } }, body: { from, step: from === 'step' ? stepId : null, version } }),
      );
      navigate(href('executions', accepted.execution_id));
    } catch (err) {
      setMessage(err instanceof Error ? err.message : String(err));
    }
  };
  const steps = useMemo(() => detail.steps.map((s) => s.id), [detail.steps]);
  return (
    <section aria-label="Retry" style={{ marginTop: 12 }}>
      <h3>Retry</h3>
      <div className="row">
        <label>
          From
          <select value={from} onChange={(e) => setFrom(e.target.value as typeof from)}>
            <option value="failed">the failed steps</option>
            <option value="start">the start</option>
            <option value="step">a chosen step</option>
          </select>
        </label>
        {from === 'step' && (
          <label>
            Step
            <select value={stepId} onChange={(e) => setStepId(e.target.value)}>
              {steps.map((s) => <option key={s}>{s}</option>)}
            </select>
          </label>
        )}
        <label>
          Version
          <select value={version} onChange={(e) => setVersion(e.target.value as typeof version)}>
            <option value="ran">the version that ran</option>
            <option value="current">the current version</option>
          </select>
        </label>
        <button type="button" className="primary" onClick={retry} style={{ alignSelf: 'flex-end' }}>
          Retry
        </button>
      </div>
      {message && <p className="error small" role="alert">{message}</p>}
    </section>
  );
}

function StepPanel({ step, live }: { step: StepDetail; live: StepRunState | undefined }) {
  const iterations = Array.isArray(step.input) && Array.isArray(step.output) ? step.output.length : undefined;
  return (
    <div className="panel" data-testid="step-panel">
      <h2>{step.id}</h2>
      <dl className="kv">
        <dt>Status</dt>
        <dd><StatusBadge status={live?.status ?? step.status} /></dd>
        <dt>Duration</dt>
        <dd>{formatDuration(step.duration_ms ?? live?.duration_ms)}</dd>
        <dt>Attempts</dt>
        <dd>{step.attempts}</dd>
        {(iterations !== undefined || live?.loop) && (
          <>
            <dt>Iterations</dt>
            <dd>{live?.loop ? `${live.loop.done} of ${live.loop.total}` : iterations}</dd>
          </>
        )}
      </dl>
      {step.error && <div className="diag"><strong>Error</strong> {step.error}</div>}
      <h3>Input (resolved)</h3>
      <div className="json" data-testid="step-input">{step.input === undefined || step.input === null ? <span className="muted">none</span> : <JsonView value={step.input} />}</div>
      <h3>Output</h3>
      <div className="json" data-testid="step-output">{step.output === undefined || step.output === null ? <span className="muted">none</span> : <JsonView value={step.output} />}</div>
    </div>
  );
}
