// The editor's state in one place: the YAML text (the single source of truth), its undo/redo history across the
// YAML pane and the canvas, the selection, and the latest `check` result (debounced while typing). The canvas
// keeps the last graph that had nodes while the text is broken, so a typo never blanks it.
import type { Diagnostic } from '../api/client';
import { asOutline, type Outline } from '../canvas/outline';
import { EditRefused } from './workflowEdits';

export interface CheckOutcome {
  ok: boolean;
  diagnostics: Diagnostic[];
  graph?: unknown;
}
export type Checker = (text: string) => Promise<CheckOutcome>;

export type Selection = { kind: 'node'; id: string } | { kind: 'edge'; id: string } | { kind: 'workflow' } | null;
export type EditOrigin = 'yaml' | 'canvas';

export interface EditorState {
  text: string;
  savedText: string;
  /** Bumped on every change that did not come from the YAML pane, so the pane knows to take the new text. */
  revision: number;
  lastOrigin: EditOrigin;
  canUndo: boolean;
  canRedo: boolean;
  selection: Selection;
  /** The result for `text`, or undefined while it is being checked. */
  checkedText: string | undefined;
  ok: boolean;
  diagnostics: Diagnostic[];
  graph: Outline | undefined;
  /** The graph shown is from an earlier text (the current one cannot be drawn). */
  graphStale: boolean;
  notice: string | undefined;
  checkError: string | undefined;
}

export interface StoreOptions {
  debounceMs?: number;
  /** Typing in the YAML pane within this long of the last keystroke is one undo step. */
  coalesceMs?: number;
  now?: () => number;
  historyLimit?: number;
}

export class EditorStore {
  private state: EditorState;
  private past: string[] = [];
  private future: string[] = [];
  private lastTypedAt = -Infinity;
  private lastKey: string | undefined;
  private listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sequence = 0;
  private readonly options: Required<StoreOptions>;

  constructor(
    initial: string,
    private readonly checker: Checker,
    options: StoreOptions = {},
  ) {
    this.options = { debounceMs: 250, coalesceMs: 1000, now: () => Date.now(), historyLimit: 500, ...options };
    this.state = {
      text: initial,
      savedText: initial,
      revision: 0,
      lastOrigin: 'canvas',
      canUndo: false,
      canRedo: false,
      selection: null,
      checkedText: undefined,
      ok: false,
      diagnostics: [],
      graph: undefined,
      graphStale: false,
      notice: undefined,
      checkError: undefined,
    };
    this.scheduleCheck(0);
  }

  getState = (): EditorState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private set(patch: Partial<EditorState>): void {
    this.state = { ...this.state, ...patch };
    this.listeners.forEach((listener) => listener());
  }

  /** A new text from the YAML pane (typing) or the canvas (an edit of the document). */
  edit(text: string, origin: EditOrigin, coalesceKey?: string): void {
    if (text === this.state.text) return;
    const now = this.options.now();
    const sameRun = origin === 'yaml' ? this.state.lastOrigin === 'yaml' && this.lastKey === undefined : !!coalesceKey && coalesceKey === this.lastKey;
    const typing = sameRun && now - this.lastTypedAt < this.options.coalesceMs;
    this.lastKey = coalesceKey;
    if (!typing || this.past.length === 0) {
      this.past.push(this.state.text);
      if (this.past.length > this.options.historyLimit) this.past.shift();
    }
    this.lastTypedAt = origin === 'yaml' || coalesceKey ? now : -Infinity;
    this.future = [];
    this.apply(text, origin);
  }

  /**
   * Runs a canvas or inspector edit (text -> text); a refused edit becomes the notice, the text stays. Edits with
   * the same `coalesceKey` in quick succession (typing in one inspector field) are one undo step.
   */
  change(edit: (text: string) => string, coalesceKey?: string): boolean {
    try {
      this.edit(edit(this.state.text), 'canvas', coalesceKey);
      if (this.state.notice) this.set({ notice: undefined });
      return true;
    } catch (err) {
      if (err instanceof EditRefused) {
        this.set({ notice: err.message });
        return false;
      }
      throw err;
    }
  }

  undo(): void {
    const previous = this.past.pop();
    if (previous === undefined) return;
    this.lastKey = undefined;
    this.future.push(this.state.text);
    this.lastTypedAt = -Infinity;
    this.apply(previous, 'canvas');
  }

  redo(): void {
    const next = this.future.pop();
    if (next === undefined) return;
    this.past.push(this.state.text);
    this.lastTypedAt = -Infinity;
    this.apply(next, 'canvas');
  }

  select(selection: Selection): void {
    this.set({ selection });
  }

  markSaved(text: string): void {
    this.set({ savedText: text });
  }

  setNotice(notice: string | undefined): void {
    this.set({ notice });
  }

  /** Shows diagnostics that came from elsewhere (a refused save). */
  showDiagnostics(diagnostics: Diagnostic[]): void {
    this.set({ diagnostics, ok: false });
  }

  private apply(text: string, origin: EditOrigin): void {
    this.set({
      text,
      lastOrigin: origin,
      revision: origin === 'yaml' ? this.state.revision : this.state.revision + 1,
      canUndo: this.past.length > 0,
      canRedo: this.future.length > 0,
      checkedText: undefined,
    });
    this.scheduleCheck(this.options.debounceMs);
  }

  private scheduleCheck(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.runCheck(), delay);
  }

  /** Checks the current text now (tests and save call it; typing goes through the debounce). */
  async runCheck(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const sequence = ++this.sequence;
    const text = this.state.text;
    let outcome: CheckOutcome;
    try {
      outcome = await this.checker(text);
    } catch (err) {
      if (sequence === this.sequence) this.set({ checkError: err instanceof Error ? err.message : String(err) });
      return;
    }
    // An answer for an older text is dropped: the newer one is on its way.
    if (sequence !== this.sequence || text !== this.state.text) return;
    const graph = asOutline(outcome.graph);
    const drawable = !!graph && (graph.nodes.length > 0 || outcome.ok);
    this.set({
      checkedText: text,
      ok: outcome.ok,
      diagnostics: outcome.diagnostics,
      graph: drawable ? graph : this.state.graph,
      graphStale: !drawable && !!this.state.graph,
      checkError: undefined,
    });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.sequence++;
    this.listeners.clear();
  }
}
