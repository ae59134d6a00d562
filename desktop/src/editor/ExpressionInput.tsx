import { type KeyboardEvent, useId, useState } from 'react';
import { type CompletionModel, expressionSuggestions, type Suggestion } from './completion';

interface Props {
  id?: string;
  value: string;
  model: CompletionModel;
  onChange: (value: string) => void;
  invalid?: boolean;
  describedBy?: string;
  label: string;
  multiline?: boolean;
}

/** A text field that completes names and functions inside `${...}` (arrows to choose, Enter or Tab to take). */
export function ExpressionInput({ id, value, model, onChange, invalid, describedBy, label, multiline }: Props) {
  const [caret, setCaret] = useState<number | null>(null);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState(false);
  const listId = useId();
  const before = caret === null ? '' : value.slice(0, caret);
  const found = caret === null || dismissed ? null : expressionSuggestions(model, before);
  const typed = found ? before.slice(found.from) : '';
  const options: Suggestion[] = found ? found.options.filter((o) => o.label.startsWith(typed) && o.label !== typed).slice(0, 12) : [];
  const open = options.length > 0;

  const take = (option: Suggestion) => {
    if (!found || caret === null) return;
    const text = option.apply ?? option.label;
    const next = value.slice(0, found.from) + text + value.slice(caret);
    onChange(next);
    setCaret(found.from + text.length);
    setActive(0);
  };
  const onKeyDown = (event: KeyboardEvent) => {
    if (!open) return;
    if (event.key === 'ArrowDown') setActive((active + 1) % options.length);
    else if (event.key === 'ArrowUp') setActive((active - 1 + options.length) % options.length);
    else if (event.key === 'Enter' || event.key === 'Tab') take(options[Math.min(active, options.length - 1)]);
    else if (event.key === 'Escape') setDismissed(true);
    else return;
    event.preventDefault();
  };
  const common = {
    id,
    value,
    'aria-label': label,
    'aria-invalid': invalid || undefined,
    'aria-describedby': describedBy,
    'aria-autocomplete': 'list' as const,
    'aria-controls': open ? listId : undefined,
    'aria-expanded': open,
    'aria-activedescendant': open ? `${listId}-${active}` : undefined,
    role: 'combobox',
    spellCheck: false,
    onKeyDown,
    onBlur: () => setTimeout(() => setCaret(null), 150),
    onSelect: (event: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) => setCaret(event.currentTarget.selectionStart),
  };
  return (
    <div className="expr-input">
      {multiline ? (
        <textarea {...common} rows={3} onChange={(e) => (onChange(e.target.value), setCaret(e.target.selectionStart), setDismissed(false))} />
      ) : (
        <input {...common} onChange={(e) => (onChange(e.target.value), setCaret(e.target.selectionStart), setDismissed(false))} />
      )}
      {open && (
        <ul className="completions" role="listbox" id={listId} aria-label="Suggestions">
          {options.map((option, index) => (
            <li
              key={option.label + index}
              id={`${listId}-${index}`}
              role="option"
              aria-selected={index === active}
              onMouseDown={(event) => (event.preventDefault(), take(option))}
            >
              {option.label}
              {option.detail && <span className="detail">{option.detail}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
