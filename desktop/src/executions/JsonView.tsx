/** A JSON value, objects and lists expandable (the first levels open). Secrets arrive masked (`***`). */
export function JsonView({ value, depth = 0, name }: { value: unknown; depth?: number; name?: string }) {
  const label = name !== undefined ? <span className="key">{name}: </span> : null;
  if (value === null || typeof value !== 'object') {
    const className = typeof value === 'string' ? 'str' : typeof value === 'number' ? 'num' : '';
    return (
      <div>
        {label}
        <span className={className}>{JSON.stringify(value) ?? 'null'}</span>
      </div>
    );
  }
  const entries = Array.isArray(value) ? value.map((item, index) => [String(index), item] as const) : Object.entries(value);
  const summary = Array.isArray(value) ? `[${entries.length} item${entries.length === 1 ? '' : 's'}]` : `{${entries.length} field${entries.length === 1 ? '' : 's'}}`;
  return (
    <details open={depth < 2 && entries.length <= 50}>
      <summary>
        {label}
        <span className="muted">{summary}</span>
      </summary>
      {entries.slice(0, 500).map(([key, item]) => (
        <JsonView key={key} name={key} value={item} depth={depth + 1} />
      ))}
      {entries.length > 500 && <div className="muted">… {entries.length - 500} more</div>}
    </details>
  );
}
