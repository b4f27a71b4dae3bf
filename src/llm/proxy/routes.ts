import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/index.js';
import { actorId } from '../../access/index.js';
import { GatehouseError } from '../../errors/index.js';
import type { SecurityEvents } from '../../observability/index.js';
import type { Clock } from '../../shared/clock.js';
import { authorizeResources, notFound, type Owner } from '../ownership/index.js';
import { authHeaders, providerLabel } from '../providers/index.js';
import type { TokenUsage } from '../usage/index.js';
import { upstreamQuery } from '../whitelist/index.js';
import { limitBody, parseJsonBody, withStreamUsage } from './request-body.js';
import { multipartBoundary, unsupportedType } from './body-types.js';
import { answerGeminiUpload, isGeminiUpload, planGeminiUpload, uploadUrlBase } from './gemini-upload.js';
import { guardMultipart } from './multipart-guard.js';
import type { Ticket } from './admission.js';
import { preparedOf, providerScope } from './prepare.js';
import { respond } from './respond.js';
import { upstreamError, upstreamErrorKind, upstreamRequestHeaders } from './upstream.js';
import type { LlmServices } from '../services.js';

/** Emits `abort` (undici's signal protocol) once the caller has disconnected. */
class ClientGone extends EventEmitter {
  aborted = false;
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Whether the client left: its response or socket is gone, or its slot was given back on 'close'. */
function clientGone(request: FastifyRequest, reply: FastifyReply, ticket: Ticket | null): boolean {
  // Not request.raw.destroyed: a request whose body was read to its end is destroyed too.
  return ticket?.released === true || reply.raw.destroyed || request.raw.socket?.destroyed === true;
}

/** Nothing to answer: the client is gone. */
function abandon(reply: FastifyReply): FastifyReply {
  reply.hijack();
  return reply;
}

/** What the proxy uses, and nothing more: the plugin cannot reach the app's other services. */
export interface LlmRoutesOptions {
  config: Config;
  events: SecurityEvents;
  llm: LlmServices;
  clock: Clock;
}

/**
 * `/llm/<provider>/<provider path>` (docs/api.md). An encapsulated plugin: inside
 * it the app's JSON parser is replaced so bodies reach the provider byte for
 * byte — JSON is buffered (bounded by the JSON limit) to check the ids it
 * references; multipart forms (upload endpoints) stream through with their
 * part headers scanned, Gemini's upload protocol streams through; any other
 * content type is 415 (body-types.ts).
 */
export async function llmRoutes(app: FastifyInstance, { config, events, llm, clock }: LlmRoutesOptions): Promise<void> {
  const jsonLimits = { maxDepth: config.limits.jsonMaxDepth, maxKeys: config.limits.jsonMaxKeys };
  const uploadBase = uploadUrlBase(config, app.server);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: config.limits.jsonBodyBytes }, (_request, body, done) => done(null, body));
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  async function proxy(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { caller, target, provider, match, bodyKind: kind, bodyRules, ticket } = preparedOf(request);
    const owner: Owner = { id: actorId(caller), enforced: caller.user !== null };
    const scope = { projectId: caller.projectId, environment: caller.environment, provider: provider.name };

    const upload = isGeminiUpload(provider, match)
      ? planGeminiUpload({ headers: request.headers, query: target.query, match, owner, scope, store: llm.resources, maxBytes: config.limits.anyBodyBytes })
      : null;
    const json = Buffer.isBuffer(request.body) && !upload?.rawBody ? parseJsonBody(request.body, jsonLimits) : null;
    const denial = upload ? await upload.authorize(json?.doc) : await authorizeResources(llm.resources, scope, owner, match, json?.doc, target.query);
    if (denial) {
      events.record('resource_access_denied', {
        projectId: caller.projectId, environment: caller.environment, ip: request.ip, requestId: request.id,
        details: { provider: provider.name, kind: denial.kind, where: denial.where, reason: denial.reason, user_id: caller.user?.id },
      });
      throw notFound(denial);
    }
    // The token quota was checked before the body was read (prepare.ts); tokens are counted below.
    const subject = caller.user ? { projectId: caller.projectId, environment: caller.environment, userId: caller.user.id } : null;

    const headers = upstreamRequestHeaders(request.headers);
    if (upload) Object.assign(headers, upload.headers);
    Object.assign(headers, authHeaders(provider.kind, provider.apiKey));
    if (provider.kind === 'anthropic' && !headers['anthropic-version']) headers['anthropic-version'] = '2023-06-01';
    let body: Buffer | Readable | undefined;
    if (json) {
      body = withStreamUsage(provider.kind, match, json);
      if (body !== json.bytes) delete headers['content-length'];
    } else if (upload?.rawBody && Buffer.isBuffer(request.body)) {
      body = upload.chunk(request.body);
    } else if (request.body && typeof (request.body as Readable).pipe === 'function') {
      // A stream is a body the JSON parser did not take: only multipart forms and Gemini's upload protocol may stream.
      if (kind !== 'multipart' && kind !== 'media') throw unsupportedType(bodyRules);
      body = limitBody(request.body as Readable, upload?.maxBodyBytes ?? config.limits.anyBodyBytes);
      if (kind === 'multipart') body = guardMultipart(body, multipartBoundary(request.headers['content-type']!));
    }

    // Opt-in (issue 5 §7): off, this costs one Map lookup and builds nothing.
    const logged = llm.requestLog.isOn(caller.projectId, caller.environment) ? llm.requestLog.begin(reply, {
      projectId: caller.projectId, environment: caller.environment, provider: provider.name, method: request.method,
      path: target.path, userId: caller.user?.id ?? `key:${caller.key.id}`, requestBody: json?.bytes ?? null, requestDoc: json?.doc,
    }) : null;
    // The client may have left during the awaits above (body, ownership, quota): its response
    // closed, its ticket was released, and the 'close' below would never come. Nothing goes
    // upstream for it then: no request the provider would bill for an answer nobody reads.
    if (clientGone(request, reply, ticket)) return abandon(reply);
    // A client that goes away aborts the provider request (and stops its token spend).
    // undici takes an EventEmitter as its signal: far cheaper per request than an AbortController.
    const abort = new ClientGone();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    // The origin slot, taken only now that the body is read (a slow upload holds none): a full
    // origin makes the request wait, bounded (admission.ts), and the client may leave meanwhile.
    try {
      const slot = ticket.origin();
      if (slot) await slot;
    } catch (error) {
      // Its leaving ended the wait (a timeout releases the ticket too: that one is answered 503).
      if (abort.aborted || clientGone(request, reply, null)) return abandon(reply);
      throw error;
    }
    if (abort.aborted || clientGone(request, reply, ticket)) return abandon(reply);
    const metrics = llm.metrics;
    const label = providerLabel(provider.name);
    const startedMs = metrics.start();
    let res;
    try {
      res = await llm.upstreams.request(provider.origin, {
        path: `${provider.basePath}${target.path}${upload ? upload.query : upstreamQuery(target.query)}`,
        method: request.method as 'GET',
        headers,
        body,
        signal: abort,
      });
    } catch (error) {
      if (error instanceof GatehouseError) throw error;
      metrics.finished(label, null, startedMs);
      metrics.error(label, abort.aborted ? 'aborted' : upstreamErrorKind(error));
      if (abort.aborted) return abandon(reply);
      throw upstreamError(error, provider.name);
    }
    metrics.headers(label, startedMs);
    if (metrics.active) {
      // The exchange ends when the provider's body does, whoever reads it (relayed, buffered or dropped).
      const status = res.statusCode;
      res.body.once('close', () => metrics.finished(label, status, startedMs));
      res.body.once('error', (error: Error) => metrics.error(label, abort.aborted ? 'aborted' : upstreamErrorKind(error)));
    }
    if (upload) {
      res = await answerGeminiUpload({
        plan: upload, provider, owner, scope, store: llm.resources, base: uploadBase, responseBufferBytes: config.llm.responseBufferBytes,
      }, res, reply);
    }
    const usageKey = { projectId: scope.projectId, environment: scope.environment, provider: scope.provider, userId: caller.user?.id ?? `key:${caller.key.id}` };
    return respond({
      llm, provider, providerLabel: label, match, owner, scope, method: request.method,
      responseBufferBytes: config.llm.responseBufferBytes,
      log: request.log,
      clientGone: () => abort.aborted,
      account(usage: TokenUsage | null) {
        logged?.usage(usage);
        if (!usage) return;
        llm.usage.add(usageKey, usage, clock.now());
        if (subject && usage.total > 0) llm.track(llm.quotas.consume(subject, usage.total));
      },
      accountOwner(resourceOwner: string, usage: TokenUsage) {
        logged?.usage(usage);
        llm.chargeOwner(scope, resourceOwner, usage);
      },
    }, res, reply);
  }

  app.route({
    method: METHODS,
    url: '/llm/*',
    exposeHeadRoute: false,
    config: { auth: 'key', routeClass: 'llm', scope: providerScope },
    schema: {
      tags: ['llm'],
      summary: 'Call an LLM provider through Gatehouse',
      description:
        '`/llm/<provider>/<the provider\'s own path>`: openai, anthropic, gemini or a configured OpenAI-compatible provider. ' +
        'Needs a user JWT (Authorization: Bearer) with a publishable key, or a secret key. Only allowlisted endpoints are forwarded; ' +
        'provider resources (files, threads, vector stores…) are visible to the user who created them only. Errors use the provider\'s shape.',
    },
    handler: proxy,
  });
}
