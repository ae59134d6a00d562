import type { KeyboardEvent } from 'react';

/** Arrow keys, Home and End move the focus between a list's rows (elements with `data-row`). */
export function onListKeyDown(event: KeyboardEvent<HTMLElement>): void {
  const keys = ['ArrowDown', 'ArrowUp', 'Home', 'End'];
  if (!keys.includes(event.key)) return;
  const rows = Array.from(event.currentTarget.querySelectorAll<HTMLElement>('[data-row]'));
  if (rows.length === 0) return;
  const at = rows.findIndex((row) => row === document.activeElement || row.contains(document.activeElement));
  let next = at;
  if (event.key === 'ArrowDown') next = Math.min(rows.length - 1, at + 1);
  if (event.key === 'ArrowUp') next = Math.max(0, at - 1);
  if (event.key === 'Home') next = 0;
  if (event.key === 'End') next = rows.length - 1;
  event.preventDefault();
  rows[next]?.focus();
}
