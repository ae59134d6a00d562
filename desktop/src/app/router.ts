// Hash routes (`#/workflows/NAME`), so the daemon serves one index.html for every screen and a reload stays put.
import { useSyncExternalStore } from 'react';

export interface Route {
  /** The path's parts: `['workflows', 'backup']`. */
  parts: string[];
  query: URLSearchParams;
}

function read(): Route {
  const hash = window.location.hash.replace(/^#/, '') || '/workflows';
  const [path, search = ''] = hash.split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(search) };
}

let current = read();
const listeners = new Set<() => void>();
window.addEventListener('hashchange', () => {
  current = read();
  listeners.forEach((listener) => listener());
});

export function useRoute(): Route {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => current,
  );
}

export function href(...parts: string[]): string {
  return '#/' + parts.map(encodeURIComponent).join('/');
}

export function navigate(target: string): void {
  window.location.hash = target.replace(/^#/, '');
}
