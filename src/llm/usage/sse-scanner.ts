import { StringDecoder } from 'node:string_decoder';
import type { ProviderKind } from '../whitelist/index.js';
import { settledId } from './deferred.js';
import { mergeUsage, usageFrom, type TokenUsage } from './extract.js';

// Server-sent events pass through unchanged, chunk by chunk; on the side, each
// event is looked at once for token usage and for ids a stream creates
// (`response.created`, `thread.created`, `thread.run.created`). Only the
// current, incomplete event is held, and never more than MAX_EVENT_BYTES
// of it: the stream itself is never buffered.

const MAX_EVENT_BYTES = 1024 * 1024;
const USAGE_HINT = /"(usage|usageMetadata)"\s*:\s*\{/;
const CREATED_EVENT = /^event:\s*(response\.created|thread\.created|thread\.run\.created|thread\.message\.created)\s*$/m;

export interface SseFindings {
  usage: TokenUsage | null;
  /** Parsed payloads of creation events, for ownership records. */
  created: unknown[];
  /** Ids of OpenAI runs and responses seen settled with usage (usage/deferred.ts counts each once). */
  settled: string[];
}

/**
 * Reads a provider's event stream as it passes, without being part of the
 * stream: the proxy feeds it the chunks it also sends on (a Transform hop per
 * stream cost about as much as the rest of the proxy's work on it).
 */
export class SseEventScanner {
  readonly findings: SseFindings = { usage: null, created: [], settled: [] };
  private pending = '';
  private skipping = false;
  // A multi-byte character split across two chunks must not become two U+FFFD in the scan.
  private readonly decoder = new StringDecoder('utf8');

  /** Bytes seen, for an estimate when a stream ends before its usage event. */
  bytes = 0;

  constructor(private readonly kind: ProviderKind, private readonly onCreated?: (doc: unknown) => void) {}

  write(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.scan(this.decoder.write(chunk));
  }

  /** The stream ended: reads a last event that had no blank line after it. Idempotent. */
  end(): void {
    if (this.pending && !this.skipping) this.event(this.pending);
    this.pending = '';
  }

  private scan(text: string): void {
    let data = this.pending + text;
    data = data.includes('\r') ? data.replace(/\r\n?/g, '\n') : data;
    let start = 0;
    for (;;) {
      const end = data.indexOf('\n\n', start);
      if (end === -1) break;
      if (!this.skipping) this.event(data.slice(start, end));
      this.skipping = false;
      start = end + 2;
    }
    this.pending = data.slice(start);
    if (this.pending.length > MAX_EVENT_BYTES) {
      // An oversized event is passed on but not read (no usage from it).
      this.pending = '';
      this.skipping = true;
    }
  }

  private event(block: string): void {
    // Substring checks first: most events carry neither, and a regex pass per event adds up.
    const created = block.includes('event:') && CREATED_EVENT.test(block);
    if (!created && !(block.includes('"usage') && USAGE_HINT.test(block))) return;
    let payload = '';
    for (const line of block.split('\n')) if (line.startsWith('data:')) payload += line.slice(line[5] === ' ' ? 6 : 5);
    if (payload === '' || payload === '[DONE]') return;
    let doc: unknown;
    try {
      doc = JSON.parse(payload);
    } catch {
      return;
    }
    if (created) {
      const resource = (doc as { response?: unknown }).response ?? doc;
      this.findings.created.push(resource);
      this.onCreated?.(resource);
    }
    this.findings.usage = mergeUsage(this.findings.usage, usageFrom(this.kind, doc));
    const settled = settledId(this.kind, doc);
    if (settled) this.findings.settled.push(settled);
  }
}
