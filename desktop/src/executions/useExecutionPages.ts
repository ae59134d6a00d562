import { useCallback, useEffect, useRef, useState } from 'react';
import { api, call, type ExecutionSummary, onAuthChange, type Schemas } from '../api/client';

type ExecutionPage = Schemas['ExecutionPage'];
import { followEvents } from '../api/events';

export interface ExecutionFilters {
  workflow?: string;
  status?: string;
  trigger?: string;
}

const PAGE = 200;

/** Executions page by page from the server (cursor pagination), refreshed live from the event stream. */
export function useExecutionPages(filters: ExecutionFilters) {
  const [items, setItems] = useState<ExecutionSummary[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const loadingRef = useRef(false);
  const itemsRef = useRef<ExecutionSummary[]>([]);
  const key = JSON.stringify(filters);
  const query = useCallback(
    (after?: string) =>
      call(
        // The query parameters are typed loosely here: the daemon's document described them as path parameters
        // until the API conformance work; the request is the same either way.
        api.GET('/api/v1/executions', {
          params: { query: { workflow: filters.workflow || undefined, status: filters.status || undefined, trigger: filters.trigger || undefined, after, limit: PAGE } },
        } as never) as Promise<{ data?: ExecutionPage; error?: unknown; response: Response }>,
      ),
    [key],
  );

  const loadFirst = useCallback(async () => {
    try {
      const page = await query();
      setError(undefined);
      const previous = itemsRef.current;
      // Keep the pages already scrolled through when the fresh first page joins them; else start again.
      const last = page.items[page.items.length - 1];
      const at = last ? previous.findIndex((item) => item.id === last.id) : -1;
      const fresh = new Set(page.items.map((item) => item.id));
      const next = at >= 0 ? [...page.items, ...previous.slice(at + 1).filter((item) => !fresh.has(item.id))] : page.items;
      itemsRef.current = next;
      setItems(next);
      if (at < 0) setCursor(page.next_cursor ?? null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }, [query]);

  useEffect(() => {
    itemsRef.current = [];
    setItems([]);
    setCursor(undefined);
    void loadFirst();
  }, [loadFirst]);
  useEffect(() => onAuthChange((needed) => !needed && void loadFirst()), [loadFirst]);

  const loadMore = useCallback(async () => {
    if (loadingRef.current || !cursor) return;
    loadingRef.current = true;
    setLoading(true);
    try {
      const page = await query(cursor);
      const seen = new Set(itemsRef.current.map((item) => item.id));
      itemsRef.current = [...itemsRef.current, ...page.items.filter((item) => !seen.has(item.id))];
      setItems(itemsRef.current);
      setCursor(page.next_cursor ?? null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      loadingRef.current = false;
      setLoading(false);
    }
  }, [cursor, query]);

  // Live: a new, started or finished execution refreshes the first page (at most a few times a second).
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = followEvents((event) => {
      if (!['queued', 'started', 'finished'].includes(event.type)) return;
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        void loadFirst();
      }, 250);
    });
    return () => {
      stop();
      if (timer) clearTimeout(timer);
    };
  }, [loadFirst]);

  return { items, error, loading, hasMore: !!cursor, loadMore };
}
