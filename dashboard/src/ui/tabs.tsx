// Tabs with the keyboard pattern screen-reader users expect: one tab stop, arrow keys (and
// Home/End) move between tabs, the panel is labelled by its tab.
import { useId, useRef } from 'preact/hooks';

export function Tabs<T extends string>({ label, tabs, value, onChange }: {
  label: string; tabs: readonly (readonly [NoInfer<T>, string])[]; value: T; onChange(value: NoInfer<T>): void;
}) {
  const id = useId();
  const list = useRef<HTMLDivElement>(null);
  const onKeyDown = (event: KeyboardEvent) => {
    const index = tabs.findIndex(([v]) => v === value);
    const next = event.key === 'ArrowRight' ? (index + 1) % tabs.length
      : event.key === 'ArrowLeft' ? (index - 1 + tabs.length) % tabs.length
        : event.key === 'Home' ? 0 : event.key === 'End' ? tabs.length - 1 : -1;
    if (next < 0) return;
    event.preventDefault();
    onChange(tabs[next]![0]);
    list.current?.querySelectorAll<HTMLButtonElement>('[role=tab]')[next]?.focus();
  };
  return (
    <div class="tabs" role="tablist" aria-label={label} ref={list} onKeyDown={onKeyDown}>
      {tabs.map(([v, text]) => (
        <button key={v} id={`${id}-${v}`} type="button" role="tab" aria-selected={v === value} tabIndex={v === value ? 0 : -1}
          onClick={() => onChange(v)}>{text}</button>
      ))}
    </div>
  );
}
