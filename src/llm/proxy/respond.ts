import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { Dispatcher } from 'undici';
import { GatehouseError } from '../../errors/index.js';
import { createdResources, filterList, recordOutcome, type Owner, type ResourceScope } from '../ownership/index.js';
import type { ResolvedProvider } from '../providers/index.js';
import type { LlmServices } from '../services.js';
import { accountAnswer, accountStream, answersDeferred, SseEventScanner, type DeferredAccounting, type TokenUsage } from '../usage/index.js';
import type { EndpointMatch } from '../whitelist/index.js';
import { readBounded } from './request-body.js';
import { scrubbedErrorBody } from './scrub.js';
import { chunkMasker, maskSecret, secretNeedle, type SecretNeedle } from './secret-mask.js';
import { downstreamHeaders, upstreamError } from './upstream.js';

export interface Exchange {
  llm: LlmServices;
  provider: ResolvedProvider;
  /** The provider as metrics name it (providerLabel). */
  providerLabel: string;
  match: EndpointMatch;
  method: string;
  owner: Owner;
  scope: ResourceScope;
  /** Counts tokens for usage and quota. */
  account(usage: TokenUsage | null): void;
  /** Counts tokens for a resource's recorded owner (a run or response seen settled later: usage/deferred.ts). */
  accountOwner(owner: string, usage: TokenUsage): void;
  responseBufferBytes: number;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** True once the caller has disconnected (the upstream request is then aborted on purpose). */
  clientGone(): boolean;
}

/**
 * Turns the provider's answer into ours. Success bodies pass through
 * untouched, except list pages (filtered to the caller's resources). JSON
 * that creates a resource is read before it is sent, so its id is recorded
 * before the caller can use it; event streams are piped chunk by chunk.
 */
export async function respond(x: Exchange, res: Dispatcher.ResponseData, reply: FastifyReply): Promise<FastifyReply> {
  const { statusCode, headers, body } = res;
  const flags = x.match.pattern.flags;
  if (statusCode >= 400) x.llm.metrics.error(x.providerLabel, statusCode >= 500 ? 'status_5xx' : 'status_4xx');
  if (statusCode >= 500 || statusCode === 401) {
    body.resume();
    x.log.warn({ provider: x.provider.name, status: statusCode }, 'provider failed');
    // A provider 401 means our key is wrong; passing it on would show the masked key in its message.
    throw new GatehouseError('upstream_failed', {
      message: statusCode === 401
        ? `The provider ${x.provider.name} refused Gatehouse's credentials; an admin must check its key.`
        : `The provider ${x.provider.name} failed (HTTP ${statusCode}).`,
    });
  }
  // Nothing from the provider reaches the client without passing the mask of its key (secret-mask.ts).
  const needle = secretNeedle(x.provider);
  reply.code(statusCode).headers(downstreamHeaders(headers, x.provider.apiKey));
  const type = String(headers['content-type'] ?? '');
  const ok = statusCode >= 200 && statusCode < 300;
  // 4xx JSON passes on as the provider wrote it, minus the account ids it may name (scrub.ts).
  if (statusCode >= 400 && statusCode < 500 && /^application\/json\s*(;|$)/i.test(type)) return reply.send(await scrubbedErrorBody(body as Readable, x.provider.name, needle));

  if (ok && type.startsWith('text/event-stream')) return streamEvents(x, body, reply, needle);

  const readIt = ok && (flags.has('usage') || flags.has('list') || x.method === 'POST' || x.method === 'DELETE' || x.match.params.some((p) => p.name === 'batch')
    || answersDeferred(x.provider.kind, x.method, x.match));
  // Exactly JSON: JSON Lines (batch results) and other types stream through unread.
  if (!readIt || !/^application\/json\s*(;|$)/i.test(type)) {
    // An unfiltered list must never reach the caller.
    if (ok && flags.has('list')) throw refuseUnreadable(body, x.provider.name);
    return reply.send(needle === null ? body : masked(body, needle));
  }
  let bytes: Buffer | null;
  try {
    bytes = await readBounded(body as Readable, x.responseBufferBytes);
  } catch (error) {
    throw upstreamError(error, x.provider.name);
  }
  if (bytes === null) throw refuseUnreadable(body, x.provider.name);
  maskSecret(bytes, needle);
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    if (flags.has('list')) throw refuseUnreadable(body, x.provider.name);
    return reply.send(bytes);
  }
  await recordOutcome(x.llm.resources, x.scope, x.owner, x.provider.kind, x.match, x.method, doc);
  accountAnswer(deferred(x), flags.has('usage'), doc);
  if (flags.has('list')) {
    const filtered = await filterList(x.llm.resources, x.scope, x.owner, x.provider.kind, doc);
    return reply.type(type).send(JSON.stringify(filtered));
  }
  return reply.send(bytes);
}

function refuseUnreadable(body: Dispatcher.ResponseData['body'], provider: string): GatehouseError {
  body.destroy();
  return new GatehouseError('upstream_failed', { message: `The provider ${provider} sent a response Gatehouse could not check.` });
}

function deferred(x: Exchange): DeferredAccounting {
  return { kind: x.provider.kind, resources: x.llm.resources, scope: x.scope, account: x.account, accountOwner: x.accountOwner, track: (work) => x.llm.track(work) };
}

/**
 * The body with the key masked in each chunk before it is written (secret-mask.ts), and each
 * chunk then handed to `onChunk`. The listener is attached, the stream paused, before Fastify
 * pipes it: a stream's `data` listeners run in the order they were added, so the pipe writes
 * what the mask left. The body goes to the socket as it is otherwise (Fastify pipes it with
 * backpressure and destroys it when the client leaves, which aborts the upstream request).
 */
function masked(body: Dispatcher.ResponseData['body'], needle: SecretNeedle, onChunk?: (chunk: Buffer) => void): Readable {
  const mask = chunkMasker(needle);
  if (mask === null && onChunk === undefined) return body;
  body.pause();
  body.on('data', (chunk: Buffer) => {
    mask?.(chunk);
    onChunk?.(chunk);
  });
  return body;
}

function streamEvents(x: Exchange, body: Dispatcher.ResponseData['body'], reply: FastifyReply, needle: SecretNeedle): FastifyReply {
  const records: Array<Promise<void>> = [];
  const scanner = new SseEventScanner(x.provider.kind, (doc) => {
    if (x.method !== 'POST') return;
    // Recorded as soon as the event passes: the caller may use the id (cancel, retrieve) mid-stream.
    const record = x.llm.resources.record(x.scope, x.owner.id, createdResources(x.provider.kind, doc));
    records.push(record);
    x.llm.track(record);
  });
  // Each chunk, once masked, also goes to the scanner (usage and created ids).
  const out = masked(body, needle, (chunk) => scanner.write(chunk));
  body.once('end', () => scanner.end());
  x.llm.metrics.streamOpened(x.providerLabel);
  out.once('close', () => {
    x.llm.metrics.streamClosed(x.providerLabel);
    // A stream cut before its usage event still costs tokens: estimate from the bytes passed
    // (about 4 bytes of event framing and JSON per token, deliberately on the high side).
    const usage = scanner.findings.usage ?? (scanner.bytes > 0 ? { input: 0, output: Math.ceil(scanner.bytes / 4), total: Math.ceil(scanner.bytes / 4), model: null } : null);
    // A settled run or response is claimed once its record is written, so a later GET does not count it again.
    accountStream(deferred(x), scanner.findings.settled, usage, () => Promise.allSettled(records));
  });
  body.on('error', (error) => {
    if (x.clientGone()) x.log.info({ provider: x.provider.name }, 'client disconnected: provider stream aborted');
    else x.log.warn({ provider: x.provider.name, code: (error as { code?: string }).code }, 'provider stream ended early');
  });
  reply.header('cache-control', 'no-cache').header('x-accel-buffering', 'no');
  return reply.send(out);
}
