import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CheckOutcome, EditorStore } from './EditorStore';
import { addStep, connect } from './workflowEdits';

const START = 'name: demo # my demo\nsteps:\n  - id: a\n    action: log\n    input:\n      message: hi\n';

/** A checker that answers like the daemon: a node per step id it can read, an error on `BROKEN`. */
function fakeChecker(calls: string[]) {
  return async (text: string): Promise<CheckOutcome> => {
    calls.push(text);
    const ids = [...text.matchAll(/- id: (\w+)/g)].map((match) => match[1]);
    const broken = text.includes('BROKEN');
    const nodes = broken ? [] : ids.map((id, index) => ({ kind: 'action', id, index, range: null, inputs: [] }));
    return {
      ok: !broken,
      diagnostics: broken ? [{ file: 'w', line: 1, column: 1, end_line: 1, end_column: 2, severity: 'error', code: 'E0001', message: 'broken', hint: null }] : [],
      graph: { nodes, edges: [], compiled: !broken },
    };
  };
}

describe('the editor state', () => {
  let clock = 0;
  let calls: string[];
  let store: EditorStore;
  beforeEach(() => {
    vi.useFakeTimers();
    clock = 0;
    calls = [];
    store = new EditorStore(START, fakeChecker(calls), { debounceMs: 200, coalesceMs: 1000, now: () => clock });
  });
  afterEach(() => {
    store.dispose();
    vi.useRealTimers();
  });

  it('undoes and redoes canvas edits and YAML typing through one history', () => {
    store.change((text) => addStep(text, { id: 'b', action: 'log', input: { message: 'x' } }));
    const withB = store.getState().text;
    clock = 5000;
    store.edit(withB + '  # a comment typed in the YAML pane\n', 'yaml');
    const typed = store.getState().text;
    store.change((text) => connect(text, 'a', 'b'));
    expect(store.getState().text).toContain('needs: [ a ]');

    store.undo();
    expect(store.getState().text).toBe(typed);
    store.undo();
    expect(store.getState().text).toBe(withB);
    store.undo();
    expect(store.getState().text).toBe(START);
    expect(store.getState().canUndo).toBe(false);

    store.redo();
    store.redo();
    expect(store.getState().text).toBe(typed);
    expect(store.getState().canRedo).toBe(true);
  });

  it('keystrokes close together are one undo step; a pause starts another', () => {
    clock = 0;
    store.edit(START + '#', 'yaml');
    clock = 300;
    store.edit(START + '#a', 'yaml');
    clock = 600;
    store.edit(START + '#ab', 'yaml');
    clock = 5000;
    store.edit(START + '#ab c', 'yaml');
    store.undo();
    expect(store.getState().text).toBe(START + '#ab');
    store.undo();
    expect(store.getState().text).toBe(START);
  });

  it('a new edit after an undo drops the redo steps', () => {
    store.change((text) => addStep(text, { id: 'b', action: 'log' }));
    store.undo();
    expect(store.getState().canRedo).toBe(true);
    store.change((text) => addStep(text, { id: 'c', action: 'log' }));
    expect(store.getState().canRedo).toBe(false);
  });

  it('checks once after typing stops, and only the latest text', async () => {
    await vi.runAllTimersAsync();
    calls.length = 0;
    store.edit(START + '#1', 'yaml');
    await vi.advanceTimersByTimeAsync(100);
    store.edit(START + '#12', 'yaml');
    await vi.advanceTimersByTimeAsync(100);
    store.edit(START + '#123', 'yaml');
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(250);
    expect(calls).toEqual([START + '#123']);
    expect(store.getState().checkedText).toBe(START + '#123');
  });

  it('keeps the last good graph while the text is broken, and marks it stale', async () => {
    await vi.runAllTimersAsync();
    expect(store.getState().graph?.nodes.map((node) => node.id)).toEqual(['a']);
    store.edit('BROKEN ' + START, 'yaml');
    await vi.runAllTimersAsync();
    expect(store.getState().diagnostics.map((d) => d.message)).toEqual(['broken']);
    expect(store.getState().graph?.nodes.map((node) => node.id)).toEqual(['a']);
    expect(store.getState().graphStale).toBe(true);
    store.undo();
    await vi.runAllTimersAsync();
    expect(store.getState().graphStale).toBe(false);
  });

  it('a refused canvas edit leaves the text and says why', () => {
    store.edit('steps: [\n', 'yaml');
    expect(store.change((text) => addStep(text, { id: 'x', action: 'log' }))).toBe(false);
    expect(store.getState().text).toBe('steps: [\n');
    expect(store.getState().notice).toMatch(/does not parse/);
  });

  it('YAML-pane edits do not bump the revision the pane listens to; canvas edits and undo do', () => {
    const start = store.getState().revision;
    store.edit(START + '#', 'yaml');
    expect(store.getState().revision).toBe(start);
    store.change((text) => addStep(text, { id: 'z', action: 'log' }));
    expect(store.getState().revision).toBe(start + 1);
    store.undo();
    expect(store.getState().revision).toBe(start + 2);
  });
});
