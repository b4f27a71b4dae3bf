import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { GatehouseError } from '../../errors/index.js';
import { parseJsonText, type JsonLimits } from '../../http/index.js';
import type { EndpointMatch, ProviderKind } from '../whitelist/index.js';

/** A JSON body: the exact bytes received, and the parsed document for the checks. */
export interface JsonBody {
  bytes: Buffer;
  doc: unknown;
}

/** Same rules as the app's JSON parser (parseJsonText): no prototype keys, bounded depth and keys, no duplicate keys. */
export function parseJsonBody(bytes: Buffer, limits: Pick<JsonLimits, 'maxDepth' | 'maxKeys'>): JsonBody {
  if (bytes.length === 0) return { bytes, doc: undefined };
  return { bytes, doc: parseJsonText(bytes.toString('utf8'), limits) };
}

const STREAM_USAGE_MEMBER = Buffer.from(',"stream_options":{"include_usage":true}}');

/**
 * OpenAI-format streams only carry token usage when asked
 * (`stream_options.include_usage`); we ask so quotas can count streamed
 * tokens. The original bytes are forwarded unless this changes the body.
 * The client then also receives the final usage chunk (`choices: []`).
 */
export function withStreamUsage(kind: ProviderKind, match: EndpointMatch, body: JsonBody): Buffer {
  if (kind !== 'openai' || !match.pattern.flags.has('usage')) return body.bytes;
  if (!/\/(chat\/)?completions$/.test(match.pattern.path)) return body.bytes;
  const doc = body.doc as { stream?: unknown; stream_options?: unknown } | undefined;
  if (!doc || typeof doc !== 'object' || doc.stream !== true) return body.bytes;
  const options = doc.stream_options && typeof doc.stream_options === 'object' ? (doc.stream_options as Record<string, unknown>) : {};
  if (options.include_usage === true) return body.bytes;
  if (doc.stream_options === undefined) {
    // The common case: append the member before the closing brace rather than re-serialize the
    // whole (possibly large) body. The body parsed as an object, so its last byte after any
    // trailing whitespace is `}` and it has at least the `stream` member before it.
    let end = body.bytes.length - 1;
    while (end > 0 && body.bytes[end] !== 0x7d) end--;
    return Buffer.concat([body.bytes.subarray(0, end), STREAM_USAGE_MEMBER]);
  }
  return Buffer.from(JSON.stringify({ ...doc, stream_options: { ...options, include_usage: true } }));
}

/** Counts streamed request bytes (uploads) and fails past the limit, whatever Content-Length said. */
export function limitBody(body: Readable, maxBytes: number): Readable {
  let seen = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > maxBytes) return callback(new GatehouseError('payload_too_large'));
      callback(null, chunk);
    },
  });
  body.on('error', (error) => limiter.destroy(error));
  return body.pipe(limiter);
}

/**
 * Reads a response body whole, up to maxBytes; null when it is larger.
 * Events rather than `for await`: the async iterator's machinery was a
 * measurable share of every non-streamed LLM response.
 */
export function readBounded(body: Readable, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        body.destroy();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      // Closed without 'end' (destroyed, connection reset) and without an error event.
      cleanup();
      reject(new Error('response body closed before its end'));
    };
    function cleanup() {
      body.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    }
    body.on('data', onData).once('end', onEnd).once('error', onError).once('close', onClose);
  });
}
