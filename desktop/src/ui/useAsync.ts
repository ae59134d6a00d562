import { useCallback, useEffect, useRef, useState } from 'react';
import { onAuthChange } from '../api/client';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

/** Loads `load()` when `key` changes (and again when a token was entered), keeping the last data meanwhile. */
export function useAsync<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [epoch, setEpoch] = useState(0);
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => onAuthChange((needed) => !needed && setEpoch((n) => n + 1)), []);
  useEffect(() => {
    let live = true;
    setState((previous) => ({ ...previous, loading: true }));
    latest.current().then(
      (data) => live && setState({ data, loading: false }),
      (err: unknown) => live && setState((previous) => ({ data: previous.data, error: err instanceof Error ? err.message : String(err), loading: false })),
    );
    return () => {
      live = false;
    };
  }, [key, epoch]);
  const reload = useCallback(() => setEpoch((n) => n + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
