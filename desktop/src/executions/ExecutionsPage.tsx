import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { api, call } from '../api/client';
import { href, navigate } from '../app/router';
import { formatDuration, formatTime, shortId, StatusBadge } from '../ui/format';
import { useAsync } from '../ui/useAsync';
import { type ExecutionFilters, useExecutionPages } from './useExecutionPages';

const ROW = 36;
const STATUSES = ['pending', 'running', 'success', 'failed', 'skipped', 'cancelled'];
const TRIGGERS = ['manual', 'schedule', 'webhook', 'file_watch'];

export function ExecutionsPage({ query }: { query: URLSearchParams }) {
  const filters: ExecutionFilters = {
    workflow: query.get('workflow') ?? '',
    status: query.get('status') ?? '',
    trigger: query.get('trigger') ?? '',
  };
  const setFilter = (name: keyof ExecutionFilters, value: string) => {
    const next = new URLSearchParams(query);
    if (value) next.set(name, value);
    else next.delete(name);
    const search = next.toString();
    navigate(href('executions') + (search ? `?${search}` : ''));
  };
  const workflows = useAsync(() => call(api.GET('/api/v1/workflows')), 'workflows');
  const pages = useExecutionPages(filters);
  const filtered = !!(filters.workflow || filters.status || filters.trigger);
  return (
    <section className="page executions-page" aria-labelledby="executions-title">
      <div className="page-head">
        <h1 id="executions-title">Executions</h1>
      </div>
      <div className="filters" role="group" aria-label="Filters">
        <label>
          Workflow
          <select name="workflow" value={filters.workflow} onChange={(e) => setFilter('workflow', e.target.value)}>
            <option value="">All</option>
            {(workflows.data ?? []).filter((w) => w.name).map((w) => (
              <option key={w.name} value={w.name}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select name="status" value={filters.status} onChange={(e) => setFilter('status', e.target.value)}>
            <option value="">All</option>
            {STATUSES.map((status) => (
              <option key={status}>{status}</option>
            ))}
          </select>
        </label>
        <label>
          Trigger
          <select name="trigger" value={filters.trigger} onChange={(e) => setFilter('trigger', e.target.value)}>
            <option value="">All</option>
            {TRIGGERS.map((trigger) => (
              <option key={trigger}>{trigger}</option>
            ))}
          </select>
        </label>
        <span className="muted small" aria-live="polite">
          {pages.items.length} shown{pages.hasMore ? ', more below' : ''}
        </span>
      </div>
      {pages.error && (
        <p className="error" role="alert">
          {pages.error}
        </p>
      )}
      {!pages.error && pages.items.length === 0 && (
        <div className="empty">
          {filtered ? (
            <p>No execution matches these filters.</p>
          ) : (
            <p>
              No executions yet. Open a <a href={href('workflows')}>workflow</a> and press Run, or enable one whose
              trigger will start it.
            </p>
          )}
        </div>
      )}
      {pages.items.length > 0 && <VirtualList pages={pages} />}
    </section>
  );
}

/** Only the rows in view are in the page, so 100,000 executions scroll like 100. */
function VirtualList({ pages }: { pages: ReturnType<typeof useExecutionPages> }) {
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });
  const [active, setActive] = useState(0);
  const { items } = pages;
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const update = () => setView({ top: element.scrollTop, height: element.clientHeight });
    update();
    const observer = new ResizeObserver(update);
    observer.observe(element);
    element.addEventListener('scroll', update, { passive: true });
    return () => {
      observer.disconnect();
      element.removeEventListener('scroll', update);
    };
  }, []);
  const first = Math.max(0, Math.floor(view.top / ROW) - 10);
  const last = Math.min(items.length, Math.ceil((view.top + view.height) / ROW) + 10);
  useEffect(() => {
    if (last >= items.length - 20 && pages.hasMore) void pages.loadMore();
  }, [last, items.length, pages]);
  const focusRow = (index: number) => {
    const clamped = Math.max(0, Math.min(items.length - 1, index));
    setActive(clamped);
    const element = box.current;
    if (!element) return;
    const top = (clamped + 1) * ROW;
    if (top < element.scrollTop + ROW) element.scrollTop = top - ROW;
    if (top + ROW > element.scrollTop + element.clientHeight) element.scrollTop = top + ROW - element.clientHeight;
    requestAnimationFrame(() => element.querySelector<HTMLElement>(`[data-index="${clamped}"]`)?.focus());
  };
  const onKeyDown = (event: KeyboardEvent) => {
    const page = Math.max(1, Math.floor(view.height / ROW) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (event.key in moves) focusRow(active + moves[event.key]);
    else if (event.key === 'Home') focusRow(0);
    else if (event.key === 'End') focusRow(items.length - 1);
    else return;
    event.preventDefault();
  };
  return (
    <div className="vlist" ref={box} role="grid" aria-rowcount={items.length + 1} aria-label="Executions" onKeyDown={onKeyDown}>
      <div className="vrow vhead" role="row" style={{ height: ROW }}>
        <span role="columnheader">Execution</span>
        <span role="columnheader">Workflow</span>
        <span role="columnheader">Status</span>
        <span role="columnheader">Trigger</span>
        <span role="columnheader">Started</span>
        <span role="columnheader">Duration</span>
      </div>
      <div style={{ height: items.length * ROW, position: 'relative' }}>
        {items.slice(first, last).map((item, offset) => {
          const index = first + offset;
          return (
            <a
              key={item.id}
              className="vrow"
              role="row"
              aria-rowindex={index + 2}
              data-index={index}
              data-execution={item.id}
              tabIndex={index === active ? 0 : -1}
              href={href('executions', item.id)}
              onFocus={() => setActive(index)}
              style={{ top: index * ROW, height: ROW }}
            >
              <span role="gridcell" className="mono">{shortId(item.id)}</span>
              <span role="gridcell">{item.workflow}</span>
              <span role="gridcell"><StatusBadge status={item.status} /></span>
              <span role="gridcell">{item.trigger_type ?? '—'}</span>
              <span role="gridcell">{formatTime(item.started_at)}</span>
              <span role="gridcell">{formatDuration(item.duration_ms)}</span>
            </a>
          );
        })}
      </div>
      {pages.loading && <p className="muted small">Loading more…</p>}
    </div>
  );
}
