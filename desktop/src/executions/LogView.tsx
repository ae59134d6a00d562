import { useEffect, useRef, useState } from 'react';
import { api, call, type LogEntry, type Schemas } from '../api/client';

type LogPage = Schemas['LogPage'];

/** The execution's log, read on from the last line while it runs; follow keeps the end in view; search marks. */
export function LogView({ executionId, running }: { executionId: string; running: boolean }) {
  const [lines, setLines] = useState<LogEntry[]>([]);
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState('');
  const [error, setError] = useState<string>();
  const box = useRef<HTMLDivElement>(null);
  const runningRef = useRef(running);
  runningRef.current = running;

  useEffect(() => {
    let offset = 0;
    let stopped = false;
    setLines([]);
    const read = async () => {
      while (!stopped) {
        try {
          const page = await call(
            api.GET('/api/v1/executions/{id}/logs', { params: { path: { id: executionId }, query: { offset, limit: 2000 } } } as never) as Promise<{ data?: LogPage; error?: unknown; response: Response }>,
          );
          offset = page.next_offset;
          if (page.lines.length) setLines((previous) => [...previous, ...page.lines]);
          setError(undefined);
          if (page.finished && page.lines.length === 0 && !runningRef.current) return;
        } catch (err) {
          setError(err instanceof Error ? err.message : String(err));
        }
        await new Promise((resolve) => setTimeout(resolve, 600));
      }
    };
    void read();
    return () => {
      stopped = true;
    };
  }, [executionId]);

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, follow]);

  const needle = search.toLowerCase();
  const shown = needle ? lines.filter((line) => `${line.step_id ?? ''} ${line.message}`.toLowerCase().includes(needle)) : lines;
  const mark = (text: string) => {
    if (!needle) return text;
    const at = text.toLowerCase().indexOf(needle);
    if (at < 0) return text;
    return (
      <>
        {text.slice(0, at)}
        <mark>{text.slice(at, at + needle.length)}</mark>
        {text.slice(at + needle.length)}
      </>
    );
  };
  return (
    <div style={{ display: 'flex', flexDirection: 'column', flex: 1, minHeight: 0 }}>
      <div className="row" style={{ padding: '6px 10px' }}>
        <label style={{ flexDirection: 'row', alignItems: 'center', gap: 4 }}>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
        <input type="search" aria-label="Search the log" placeholder="Search the log" value={search} onChange={(e) => setSearch(e.target.value)} />
        <span className="muted small">
          {shown.length} of {lines.length} lines
        </span>
      </div>
      {error && <p className="error small" role="alert">{error}</p>}
      <div className="logs" ref={box} role="log" aria-label="Execution log" tabIndex={0} onScroll={(e) => {
        const el = e.currentTarget;
        const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
        if (!atEnd && follow) setFollow(false);
      }}>
        {lines.length === 0 && <span className="muted">No log lines yet.</span>}
        {shown.map((line, index) => (
          <div key={index} className={`lvl-${line.level.toLowerCase()}`}>
            <span className="muted">{line.at.slice(11, 23)}</span> {line.level.padEnd(5)} {line.step_id ? `[${line.step_id}] ` : ''}
            {mark(line.message)}
          </div>
        ))}
      </div>
    </div>
  );
}
