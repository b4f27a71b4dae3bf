import type { ProviderKind } from '../whitelist/index.js';
import { geminiFileReference, isGeminiFileUriKey } from './gemini-file-uri.js';

// Which ids belong to someone. A path parameter's name is its resource kind
// (whitelist/defaults.ts); this file says how each kind is checked and how
// ids are found in request and response bodies.

/** Top-level resources: the id must be recorded to the caller. */
const OWNED = new Set(['file', 'upload', 'batch', 'assistant', 'thread', 'vector_store', 'response', 'conversation', 'container']);
/**
 * Resources that live inside an owned parent (a thread's messages and runs):
 * the parent's check covers them, and they are refused only if recorded to
 * someone else (the provider scopes them to the parent already).
 */
const NESTED = new Set(['message', 'run', 'step', 'file_batch', 'item', 'container_file']);
/** Not resources of anyone. */
const FREE = new Set(['model']);

export type ParamCheck = 'owned' | 'nested' | 'free';

/** Unknown names (an admin's extra pattern) are treated as owned: fail closed. */
export function paramCheck(name: string, hasOwnedParent: boolean): ParamCheck {
  if (FREE.has(name)) return 'free';
  if (NESTED.has(name) && hasOwnedParent) return 'nested';
  if (OWNED.has(name) || NESTED.has(name)) return 'owned';
  return 'owned';
}

/** JSON keys that reference an existing resource, anywhere in a request body. */
const BODY_REFERENCES: Record<string, string> = {
  file_id: 'file', file_ids: 'file', input_file_id: 'file',
  thread_id: 'thread', assistant_id: 'assistant',
  vector_store_id: 'vector_store', vector_store_ids: 'vector_store',
  previous_response_id: 'response', response_id: 'response',
  batch_id: 'batch', upload_id: 'upload',
  conversation: 'conversation', conversation_id: 'conversation',
  container: 'container', container_id: 'container',
};

/** Whether a field of this name references an existing resource (multipart form fields are checked against it). */
export function isReferenceKey(key: string): boolean {
  return Object.hasOwn(BODY_REFERENCES, key) || isGeminiFileUriKey(key);
}

export interface Reference {
  kind: string;
  id: string;
  /** A run's thread: runs are fetched under it. */
  parent?: string;
  /** A reference Gatehouse could not read for sure (a Gemini file URI it cannot normalise): always refused. */
  unreadable?: true;
}

function referencedId(key: string, value: string): string | null {
  // `container: "auto"` is a setting, not an id; any other string names one (OpenAI cntr_…, Anthropic container_…).
  if ((key === 'container' || key === 'conversation') && value === 'auto') return null;
  return value;
}

/**
 * Every resource id the body references, found by key anywhere in the
 * document (tool_resources, attachments, content parts, sources…). The walk
 * is iterative and the document's size is already bounded by the JSON limits.
 */
export function bodyReferences(body: unknown): Reference[] {
  const found: Reference[] = [];
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (const child of node) stack.push(child);
      continue;
    }
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (isGeminiFileUriKey(key)) {
        if (typeof value === 'string') pushGeminiFile(found, value);
        else if (Array.isArray(value)) for (const v of value) if (typeof v === 'string') pushGeminiFile(found, v, true);
      }
      const kind = Object.hasOwn(BODY_REFERENCES, key) ? BODY_REFERENCES[key] : undefined;
      if (kind) {
        if (typeof value === 'string') {
          const id = referencedId(key, value);
          if (id) found.push({ kind, id });
        } else if (Array.isArray(value)) {
          for (const v of value) if (typeof v === 'string') found.push({ kind, id: referencedId(key, v) ?? v });
        } else if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') {
          found.push({ kind, id: (value as { id: string }).id }); // conversation: { id }
        }
      }
      if (value !== null && typeof value === 'object') stack.push(value);
    }
  }
  return found;
}

function pushGeminiFile(found: Reference[], value: string, inArray = false): void {
  const ref = geminiFileReference(value);
  if (ref === 'external') {
    // A list where Google expects one URI is refused by Google; here it is no pass for an external-looking string.
    if (inArray) found.push({ kind: 'file', id: value, unreadable: true });
  } else if (ref === 'unreadable') found.push({ kind: 'file', id: value, unreadable: true });
  else found.push({ kind: 'file', id: ref.id });
}

/** OpenAI `object` values (Anthropic `type` values) of resources worth recording. */
const OPENAI_OBJECTS: Record<string, string> = {
  file: 'file', upload: 'upload', batch: 'batch', assistant: 'assistant', thread: 'thread',
  'thread.message': 'message', 'thread.run': 'run', vector_store: 'vector_store',
  'vector_store.file_batch': 'file_batch', response: 'response', conversation: 'conversation',
  container: 'container', 'container.file': 'container_file',
};
const ANTHROPIC_TYPES: Record<string, string> = { file: 'file', message_batch: 'batch' };

/**
 * Resources a provider response creates or reveals: the object itself, plus
 * ids it hands out for the caller to use next (a run's new thread, an
 * upload's file, a batch's output files).
 */
export function createdResources(kind: ProviderKind, body: unknown): Reference[] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return [];
  const o = body as Record<string, unknown>;
  const out: Reference[] = [];
  const isId = (id: unknown): id is string => typeof id === 'string' && id.length > 0 && id.length <= 200;
  const push = (k: string, id: unknown) => {
    if (isId(id)) out.push({ kind: k, id });
  };
  if (kind === 'gemini') {
    const file = o.file as { name?: unknown } | undefined;
    if (file && typeof file.name === 'string' && file.name.startsWith('files/')) push('file', file.name.slice(6));
    return out;
  }
  // An Anthropic message that ran code names its container, which the next request may reuse.
  if (kind === 'anthropic' && o.type === 'message') {
    push('container', (o.container as { id?: unknown } | null | undefined)?.id);
    return out;
  }
  const type = kind === 'anthropic' ? ANTHROPIC_TYPES[String(o.type)] : OPENAI_OBJECTS[String(o.object)];
  if (!type) return out;
  if (type === 'run' && isId(o.id) && isId(o.thread_id)) out.push({ kind: 'run', id: o.id, parent: o.thread_id });
  else push(type, o.id);
  if (type === 'run') push('thread', o.thread_id);
  if (type === 'upload') push('file', (o.file as { id?: unknown } | null | undefined)?.id);
  if (type === 'batch') {
    push('file', o.output_file_id);
    push('file', o.error_file_id);
  }
  if (type === 'response') push('conversation', (o.conversation as { id?: unknown } | null | undefined)?.id);
  return out;
}

/** The items of a list response and the key holding each id. */
export function listItems(kind: ProviderKind, body: unknown): { key: 'data' | 'files'; items: Array<{ id: string; item: unknown }> } | null {
  if (!body || typeof body !== 'object') return null;
  const o = body as Record<string, unknown>;
  const key = kind === 'gemini' ? 'files' : 'data';
  const list = o[key];
  if (list === undefined && kind === 'gemini') return { key, items: [] };
  if (!Array.isArray(list)) return null;
  const items = list.map((item) => {
    const raw = (item as { id?: unknown; name?: unknown } | null)?.[kind === 'gemini' ? 'name' : 'id'];
    const id = typeof raw === 'string' ? (kind === 'gemini' ? raw.replace(/^files\//, '') : raw) : '';
    return { id, item };
  });
  return { key, items };
}
