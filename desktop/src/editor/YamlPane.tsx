import { autocompletion, type CompletionContext, type CompletionResult, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, indentWithTab } from '@codemirror/commands';
import { yaml } from '@codemirror/lang-yaml';
import { HighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { tags } from '@lezer/highlight';
import { type Diagnostic as LintDiagnostic, lintGutter, setDiagnostics } from '@codemirror/lint';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { EditorState, Prec } from '@codemirror/state';
import { drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from '@codemirror/view';
import { Validator } from '@cfworker/json-schema';
import { useEffect, useRef } from 'react';
import { parseDocument } from 'yaml';
import type { Diagnostic } from '../api/client';
import { type CompletionModel, expressionSuggestions, type JsonSchema, schemaSuggestions } from './completion';
import type { EditorStore } from './EditorStore';

interface Props {
  store: EditorStore;
  text: string;
  revision: number;
  diagnostics: Diagnostic[];
  model: CompletionModel;
  schema: JsonSchema | undefined;
}

function offsetOf(doc: EditorState['doc'], line: number, column: number): number {
  const safeLine = Math.min(Math.max(1, line), doc.lines);
  const info = doc.line(safeLine);
  return Math.min(info.from + Math.max(0, column - 1), info.to);
}

/** Compiler diagnostics, then the schema's complaints on lines the compiler said nothing about. */
function markers(state: EditorState, diagnostics: Diagnostic[], schemaProblems: LintDiagnostic[]): LintDiagnostic[] {
  const doc = state.doc;
  const found: LintDiagnostic[] = diagnostics.map((d) => {
    const from = offsetOf(doc, d.line, d.column);
    let to = offsetOf(doc, d.end_line, d.end_column);
    if (to <= from) to = Math.min(doc.length, from + 1);
    return {
      from,
      to,
      severity: d.severity === 'warning' ? 'warning' : 'error',
      source: d.code,
      message: d.message + (d.hint ? `\nhelp: ${d.hint}` : ''),
    };
  });
  const lines = new Set(found.map((m) => doc.lineAt(m.from).number));
  return [...found, ...schemaProblems.filter((m) => m.to <= doc.length && !lines.has(doc.lineAt(m.from).number))];
}

/** Validates the YAML against the workflow JSON Schema; each problem placed on the node it is about. */
function schemaProblems(text: string, validator: Validator | undefined): LintDiagnostic[] {
  if (!validator) return [];
  const doc = parseDocument(text);
  if (doc.errors.length) return [];
  const result = validator.validate(doc.toJSON());
  if (result.valid) return [];
  const problems = new Map<string, LintDiagnostic>();
  for (const error of result.errors) {
    if (['properties', 'items', '$ref', 'allOf', 'anyOf', 'oneOf', 'additionalProperties'].includes(error.keyword)) continue;
    const path = error.instanceLocation.replace(/^#\/?/, '').split('/').filter(Boolean).map((part) => decodeURIComponent(part.replace(/~1/g, '/').replace(/~0/g, '~')));
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    const [from, to] = node?.range ?? [0, 1];
    if (!problems.has(error.instanceLocation)) {
      problems.set(error.instanceLocation, { from, to: Math.max(to, from + 1), severity: 'warning', source: 'schema', message: `schema: ${error.error}` });
    }
  }
  return [...problems.values()];
}

/** Colours from the theme's variables, so the light and dark themes both keep their contrast. */
const highlight = HighlightStyle.define([
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: 'var(--node-action)' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--ok)' },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: 'var(--node-condition)' },
  { tag: [tags.comment, tags.lineComment], color: 'var(--fg-muted)', fontStyle: 'italic' },
  { tag: [tags.keyword, tags.meta, tags.labelName], color: 'var(--node-trigger)' },
  { tag: [tags.punctuation, tags.separator], color: 'var(--fg-muted)' },
]);

export function YamlPane({ store, text, revision, diagnostics, model, schema }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | undefined>(undefined);
  const applying = useRef(false);
  const modelRef = useRef(model);
  modelRef.current = model;
  const schemaRef = useRef(schema);
  schemaRef.current = schema;
  const validator = useRef<Validator | undefined>(undefined);
  const schemaMarkers = useRef<LintDiagnostic[]>([]);

  useEffect(() => {
    validator.current = schema ? new Validator(schema as never, '2020-12', false) : undefined;
  }, [schema]);

  useEffect(() => {
    const complete = (context: CompletionContext): CompletionResult | null => {
      const line = context.state.doc.lineAt(context.pos);
      const before = line.text.slice(0, context.pos - line.from);
      const expression = expressionSuggestions(modelRef.current, before);
      if (expression) {
        if (!context.explicit && expression.options.length === 0) return null;
        return {
          from: line.from + expression.from,
          options: expression.options.map((o) => ({ label: o.label, detail: o.detail, info: o.info, apply: o.apply, type: o.type === 'step' ? 'variable' : o.type === 'field' ? 'property' : o.type })),
          validFor: /^\w*$/,
        };
      }
      if (!schemaRef.current) return null;
      const word = context.matchBefore(/[\w/-]*/);
      if (!word || (word.from === word.to && !context.explicit)) return null;
      const options = schemaSuggestions(schemaRef.current, context.state.doc.toString(), word.from);
      return { from: word.from, options: options.map((o) => ({ label: o.label, detail: o.detail, info: o.info, apply: o.apply, type: o.type })), validFor: /^[\w/-]*$/ };
    };
    const theme = EditorView.theme({
      '&': { height: '100%', backgroundColor: 'var(--bg)', color: 'var(--fg)' },
      '.cm-gutters': { backgroundColor: 'var(--bg-soft)', color: 'var(--fg-muted)', borderRight: '1px solid var(--border)' },
      '.cm-activeLine, .cm-activeLineGutter': { backgroundColor: 'color-mix(in srgb, var(--accent) 8%, transparent)' },
      '.cm-content': { caretColor: 'var(--fg)' },
      '&.cm-focused .cm-cursor': { borderLeftColor: 'var(--fg)' },
      '.cm-tooltip': { backgroundColor: 'var(--bg-raised)', color: 'var(--fg)', border: '1px solid var(--border)' },
    });
    const undoKeys = Prec.highest(
      keymap.of([
        { key: 'Mod-z', run: () => (store.undo(), true), preventDefault: true },
        { key: 'Mod-y', run: () => (store.redo(), true), preventDefault: true },
        { key: 'Mod-Shift-z', run: () => (store.redo(), true), preventDefault: true },
      ]),
    );
    const editor = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: store.getState().text,
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          highlightActiveLine(),
          drawSelection(),
          indentOnInput(),
          highlightSelectionMatches(),
          yaml(),
          syntaxHighlighting(highlight),
          lintGutter(),
          autocompletion({ override: [complete], activateOnTyping: true }),
          undoKeys,
          keymap.of([...completionKeymap, ...searchKeymap, ...defaultKeymap, indentWithTab]),
          EditorView.contentAttributes.of({ 'aria-label': 'Workflow YAML', 'data-testid': 'yaml-editor' }),
          theme,
          EditorView.updateListener.of((update) => {
            if (update.docChanged && !applying.current) store.edit(update.state.doc.toString(), 'yaml');
          }),
        ],
      }),
    });
    view.current = editor;
    return () => editor.destroy();
  }, [store]);

  // Text from the canvas or undo: replace only the part that differs, so the cursor and scroll stay.
  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const current = editor.state.doc.toString();
    if (current === text) return;
    let start = 0;
    while (start < current.length && start < text.length && current[start] === text[start]) start++;
    let endOld = current.length;
    let endNew = text.length;
    while (endOld > start && endNew > start && current[endOld - 1] === text[endNew - 1]) {
      endOld--;
      endNew--;
    }
    applying.current = true;
    editor.dispatch({ changes: { from: start, to: endOld, insert: text.slice(start, endNew) } });
    applying.current = false;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [revision]);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    schemaMarkers.current = schemaProblems(editor.state.doc.toString(), validator.current);
    editor.dispatch(setDiagnostics(editor.state, markers(editor.state, diagnostics, schemaMarkers.current)));
  }, [diagnostics, schema]);

  return <div className="yaml-host" ref={host} style={{ flex: 1, minHeight: 0, overflow: 'hidden' }} />;
}
