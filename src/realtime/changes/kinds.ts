import type { ChangeType } from './types.js';

// What a subscriber is told of one change, given whether it may see the row before and after it,
// for tables (feed.ts) and storage objects (objects.ts) alike. `gone`: an UPDATE that took the row
// out of its sight, sent as a DELETE with no new value.

export type AnswerKind = 'insert' | 'update' | 'delete' | 'gone';

export function kindOf(type: ChangeType, newSeen: boolean, oldSeen: boolean): AnswerKind | null {
  if (type === 'INSERT') return newSeen ? 'insert' : null;
  if (type === 'DELETE') return oldSeen ? 'delete' : null;
  if (newSeen) return 'update';
  return oldSeen ? 'gone' : null;
}

export function typeOfKind(kind: AnswerKind): ChangeType {
  return kind === 'insert' ? 'INSERT' : kind === 'update' ? 'UPDATE' : 'DELETE';
}
