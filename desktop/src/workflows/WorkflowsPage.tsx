import { useState } from 'react';
import { api, call, type WorkflowSummary } from '../api/client';
import { href } from '../app/router';
import { formatTime, StatusBadge } from '../ui/format';
import { onListKeyDown } from '../ui/listKeys';
import { useAsync } from '../ui/useAsync';

export function WorkflowsPage() {
  const workflows = useAsync(() => call(api.GET('/api/v1/workflows')), 'workflows');
  return (
    <section className="page" aria-labelledby="workflows-title">
      <div className="page-head">
        <h1 id="workflows-title">Workflows</h1>
        <a className="button primary" href={href('workflows', 'new')}>
          New workflow
        </a>
      </div>
      {workflows.error && (
        <p className="error" role="alert">
          {workflows.error}
        </p>
      )}
      {workflows.data && workflows.data.length === 0 && (
        <div className="empty">
          <p>No workflows yet.</p>
          <p>
            Create one with <a href={href('workflows', 'new')}>New workflow</a>, or put a YAML file in the workflows
            folder (<code>$PILOT_HOME/workflows</code>): Pilot picks it up at once.
          </p>
        </div>
      )}
      {workflows.data && workflows.data.length > 0 && (
        <WorkflowTable workflows={workflows.data} onChanged={workflows.reload} />
      )}
    </section>
  );
}

function WorkflowTable({ workflows, onChanged }: { workflows: WorkflowSummary[]; onChanged: () => void }) {
  return (
    <table className="list" onKeyDown={onListKeyDown}>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Triggers</th>
          <th scope="col">Next fire</th>
          <th scope="col">Last status</th>
          <th scope="col">Enabled</th>
        </tr>
      </thead>
      <tbody>
        {workflows.map((workflow) => (
          <WorkflowRow key={workflow.file} workflow={workflow} onChanged={onChanged} />
        ))}
      </tbody>
    </table>
  );
}

function WorkflowRow({ workflow, onChanged }: { workflow: WorkflowSummary; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const loaded = !workflow.problem;
  const toggle = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const path = workflow.enabled ? '/api/v1/workflows/{name}/disable' : '/api/v1/workflows/{name}/enable';
      await call(api.POST(path, { params: { path: { name: workflow.name } } }));
      onChanged();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const name = workflow.name || workflow.file.split('/').pop() || workflow.file;
  return (
    <tr>
      <td>
        <a data-row href={href('workflows', workflow.name || name)}>
          {name}
        </a>
        {workflow.description && <div className="muted small">{workflow.description}</div>}
        {workflow.problem && <div className="error small">{workflow.problem}</div>}
      </td>
      <td>
        {workflow.triggers.length === 0 ? (
          <span className="muted">by hand</span>
        ) : (
          <ul className="plain">
            {workflow.triggers.map((trigger) => (
              <li key={trigger.id}>
                <span className="badge">{trigger.type}</span> {trigger.summary}
              </li>
            ))}
          </ul>
        )}
      </td>
      <td>{formatTime(workflow.next_fire)}</td>
      <td>
        {workflow.last_execution ? (
          <a href={href('executions', workflow.last_execution.id)}>
            <StatusBadge status={workflow.last_execution.status} />
          </a>
        ) : (
          <StatusBadge status={null} />
        )}
      </td>
      <td>
        <button
          type="button"
          role="switch"
          className="switch"
          aria-checked={workflow.enabled}
          aria-label={`${name} enabled`}
          disabled={busy || !loaded}
          onClick={toggle}
        >
          <span aria-hidden="true">{workflow.enabled ? 'On' : 'Off'}</span>
        </button>
        {error && (
          <div className="error small" role="alert">
            {error}
          </div>
        )}
      </td>
    </tr>
  );
}
