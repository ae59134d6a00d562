/**
 * An execution id as people read it: its last 8 characters, as `pilot` shows it (the start of a UUIDv7 is its time,
 * shared by every execution of the same minute); the CLI and the API take it back as a unique end.
 */
export function shortId(id: string): string {
  return id.slice(-8);
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function StatusBadge({ status }: { status: string | null | undefined }) {
  const text = status ?? 'never run';
  return (
    <span className={`badge status-${status ?? 'none'}`} data-status={status ?? 'none'}>
      {text}
    </span>
  );
}
