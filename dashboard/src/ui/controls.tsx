// Form pieces shared by every page: a label for every control, errors next to what caused them,
// busy buttons that cannot be pressed twice.
import type { ButtonHTMLAttributes, ComponentChildren, InputHTMLAttributes } from 'preact';
import { useId, useState } from 'preact/hooks';

export function ErrorText({ error, id }: { error: string | null | undefined; id?: string }) {
  if (!error) return null;
  return <p class="error" role="alert" id={id}>{error}</p>;
}

export function Notice({ children }: { children: ComponentChildren }) {
  return <p class="notice" role="status">{children}</p>;
}

/** The input attributes our forms use (preact's full set types ARIA roles per input type, which a spread cannot satisfy). */
interface InputProps {
  type?: 'text' | 'email' | 'password' | 'number' | 'search' | 'datetime-local' | 'date' | 'url';
  autoComplete?: string;
  required?: boolean;
  autoFocus?: boolean;
  inputMode?: 'numeric' | 'text' | 'email' | 'search';
  pattern?: string;
  maxLength?: number;
  minLength?: number;
  min?: number | string;
  max?: number | string;
  placeholder?: string;
  disabled?: boolean;
  readOnly?: boolean;
  name?: string;
}

/** A labelled input. `hint` is read by screen readers with the field. */
export function Field({ label, value, onValue, hint, error, ...rest }: InputProps & {
  label: string; value: string; onValue(value: string): void; hint?: string; error?: string | null;
}) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id} value={value} onInput={(e) => onValue(e.currentTarget.value)}
        aria-describedby={[hintId, errorId].filter(Boolean).join(' ') || undefined}
        aria-invalid={error ? true : undefined}
        // Cast: preact types <input> as a union keyed by a literal `type`; ours is a union of literals.
        {...(rest as InputHTMLAttributes<HTMLInputElement>)}
      />
      {hint && <small id={hintId}>{hint}</small>}
      <ErrorText error={error} id={errorId} />
    </div>
  );
}

export function TextArea({ label, value, onValue, rows = 8, readOnly, hint }: {
  label: string; value: string; onValue(value: string): void; rows?: number; readOnly?: boolean; hint?: string;
}) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <textarea id={id} rows={rows} value={value} readOnly={readOnly} spellcheck={false} class="mono"
        aria-describedby={hint ? `${id}-hint` : undefined}
        onInput={(e) => onValue(e.currentTarget.value)} />
      {hint && <small id={`${id}-hint`}>{hint}</small>}
    </div>
  );
}

export function Select({ label, value, onValue, options, disabled }: {
  label: string; value: string; onValue(value: string): void; options: readonly (string | { value: string; label: string })[]; disabled?: boolean;
}) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} disabled={disabled} onChange={(e) => onValue(e.currentTarget.value)}>
        {options.map((o) => (typeof o === 'string' ? <option key={o} value={o}>{o}</option> : <option key={o.value} value={o.value}>{o.label}</option>))}
      </select>
    </div>
  );
}

export function Checkbox({ label, checked, onChecked, disabled }: { label: string; checked: boolean; onChecked(v: boolean): void; disabled?: boolean }) {
  const id = useId();
  return (
    <div class="check">
      <input type="checkbox" id={id} checked={checked} disabled={disabled} onChange={(e) => onChecked(e.currentTarget.checked)} />
      <label for={id}>{label}</label>
    </div>
  );
}

/** A button that shows progress and cannot be pressed again while its action runs. */
export function Button({ busy, busyText, children, kind = 'secondary', type = 'button', disabled, ...rest }: {
  busy?: boolean; busyText?: string; kind?: 'primary' | 'secondary' | 'danger'; children: ComponentChildren;
} & Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'class'>) {
  return (
    <button type={type} class={`btn btn-${kind}`} disabled={Boolean(busy) || Boolean(disabled)} aria-busy={busy ? true : undefined} {...rest}>
      {busy ? <><span class="spinner" aria-hidden="true" />{busyText ?? 'Working…'}</> : children}
    </button>
  );
}

/** A form that submits on Enter, never reloads the page, and shows its error under the button. */
export function Form({ onSubmit, children, error, label }: {
  onSubmit(): void; children: ComponentChildren; error?: string | null; label?: string;
}) {
  return (
    <form class="form" aria-label={label} onSubmit={(e) => { e.preventDefault(); onSubmit(); }}>
      {children}
      <ErrorText error={error} />
    </form>
  );
}

export function Loading({ what }: { what: string }) {
  return <p class="muted" role="status"><span class="spinner" aria-hidden="true" />Loading {what}…</p>;
}

/** Copies to the clipboard and says so; falls back to selecting the text where the clipboard API is refused. */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const onClick = async (event: MouseEvent) => {
    const button = event.currentTarget as HTMLButtonElement;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch {
      button.textContent = 'Copy refused: select the text';
    }
  };
  return <button type="button" class="btn btn-secondary" onClick={onClick}>{label}</button>;
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const id = useId();
  return (
    <section class="card" aria-labelledby={id}>
      <div class="card-head"><h2 id={id}>{title}</h2>{actions}</div>
      {children}
    </section>
  );
}

/** A read-only banner for viewers: the controls are disabled and the server would refuse anyway. */
export function ReadOnlyNote({ canWrite }: { canWrite: boolean }) {
  if (canWrite) return null;
  return <p class="notice" role="note">Your role in this project is viewer: you can look, not change.</p>;
}

export function formatDate(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const date = typeof value === 'number' ? new Date(value * (value < 1e12 ? 1000 : 1)) : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

/**
 * A destructive action asked twice, inline (no window.confirm: it blocks the page and cannot say
 * what will be lost). `question` says what happens; the second button does it.
 */
export function ConfirmButton({ label, question, confirmLabel, onConfirm, busy, busyText, disabled, kind = 'danger' }: {
  label: string; question: ComponentChildren; confirmLabel: string; onConfirm(): void; busy?: boolean; busyText?: string; disabled?: boolean;
  kind?: 'danger' | 'secondary';
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) return <Button kind={kind} disabled={disabled} busy={busy} busyText={busyText} onClick={() => setAsking(true)}>{label}</Button>;
  return (
    <span class="confirm" role="group" aria-label={label}>
      <span>{question}</span>{' '}
      <Button kind="danger" busy={busy} busyText={busyText} onClick={() => { setAsking(false); onConfirm(); }}>{confirmLabel}</Button>{' '}
      <Button onClick={() => setAsking(false)}>Cancel</Button>
    </span>
  );
}

/** Text as a list: one item per line or comma, blanks dropped. */
export function splitList(text: string): string[] {
  return text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
}
