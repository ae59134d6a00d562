import { type FormEvent, useEffect, useRef, useState } from 'react';
import { onAuthChange, setToken } from '../api/client';

/** Asks for the API token once, when the daemon answered 401. */
export function AuthGate() {
  const [needed, setNeeded] = useState(false);
  const [value, setValue] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => onAuthChange(setNeeded), []);
  useEffect(() => {
    if (needed) input.current?.focus();
  }, [needed]);
  if (!needed) return null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (value.trim()) setToken(value);
  };
  return (
    <div className="modal-backdrop">
      <form className="modal" role="dialog" aria-modal="true" aria-labelledby="token-title" onSubmit={submit}>
        <h2 id="token-title">This Pilot needs its API token</h2>
        <p>
          The daemon was set up with a token. It is in <code>$PILOT_HOME/api-token</code> on the machine running{' '}
          <code>pilot serve</code> (<code>cat ~/.dooz/pilot/api-token</code>). This browser keeps it.
        </p>
        <label>
          Token
          <input ref={input} type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} />
        </label>
        <div className="row-end">
          <button type="submit" className="primary">
            Use this token
          </button>
        </div>
      </form>
    </div>
  );
}
