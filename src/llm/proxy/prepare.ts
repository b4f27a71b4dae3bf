import type { FastifyReply, FastifyRequest } from 'fastify';
import { actorId, type Caller } from '../../access/index.js';
import { GatehouseError } from '../../errors/index.js';
import { pinDialect } from '../../http/index.js';
import type { SecurityEvents } from '../../observability/index.js';
import type { LlmServices } from '../services.js';
import type { ResolvedProvider } from '../providers/index.js';
import type { Ticket } from './admission.js';
import { guardTarget, matchEndpoint, NEVER_ALLOWED, type EndpointMatch, type GuardedTarget } from '../whitelist/index.js';
import { bodyKind, type BodyKind, type BodyRules } from './body-types.js';
import { isGeminiUpload } from './gemini-upload.js';

interface Prepared {
  caller: Caller;
  target: GuardedTarget;
  provider: ResolvedProvider;
  match: EndpointMatch;
  /** What the Content-Type makes the body (body-types.ts); null without a body. */
  bodyKind: BodyKind | null;
  bodyRules: BodyRules;
  /** The request's user and project counts; its origin slot is taken just before it goes upstream. */
  ticket: Ticket;
}

// What the stages found, for the ones after them (on the request: cheaper than a WeakMap).
const TARGET = Symbol('gatehouse.llm.target');
const PREPARED = Symbol('gatehouse.llm.prepared');
type Preparable = FastifyRequest & { [TARGET]?: GuardedTarget; [PREPARED]?: Prepared };

/** The provider and path a request names, path tricks refused (400); split once per request. */
function targetOf(request: FastifyRequest): GuardedTarget {
  const memo = request as Preparable;
  return (memo[TARGET] ??= guardTarget(request.url));
}

/** The route's scope (`llm:<provider>`), for the authorization stage. */
export function providerScope(request: FastifyRequest): string {
  return `llm:${targetOf(request).provider}`;
}

/**
 * preParsing stage of the /llm surface: everything that needs no body runs before the body is
 * read, so a path trick, an unknown provider, a closed endpoint or a used-up token quota costs us
 * no upload. The caller
 * was identified, limited and authorized (its user and its `llm:<provider>` scope) in onRequest,
 * so a caller whose credentials fail never learns from a 404 (provider), 403 (endpoint) or 415
 * here, nor leaves an event but the rejection.
 */
export interface LlmPrepareDeps {
  /** The largest body any route takes (config.limits.anyBodyBytes). */
  anyBodyBytes: number;
  events: SecurityEvents;
  llm: Pick<LlmServices, 'providers' | 'admission' | 'quotas'>;
}

export function createLlmPrepareStage({ anyBodyBytes, events, llm }: LlmPrepareDeps) {
  return async function prepareLlmRequest<T>(request: FastifyRequest, reply: FastifyReply, payload: T): Promise<T> {
    const caller = request.caller;
    if (!caller) throw new GatehouseError('missing_api_key'); // unreachable: the route is not public; fail closed
    const target = targetOf(request);
    const provider = await llm.providers.resolve(caller.projectId, caller.environment, target.provider);
    if (!provider) throw new GatehouseError('not_found', { message: `No provider named ${target.provider} is configured in this project environment.` });
    // From here on errors speak the provider's kind, not the one its URL name suggests (a custom anthropic provider).
    pinDialect(request, provider.kind);
    const match = matchEndpoint(provider.endpoints, request.method, target.path);
    // The account-endpoint ban holds on the actual path too: an admin pattern such as
    // `GET /v1/{model}/{file}` passes the check on its text yet matches /v1/organization/users.
    if (!match || NEVER_ALLOWED.test(target.path)) {
      events.record('llm_endpoint_denied', {
        projectId: caller.projectId, environment: caller.environment, ip: request.ip, requestId: request.id,
        details: { provider: provider.name, method: request.method, path: target.path.slice(0, 200) },
      });
      throw new GatehouseError('llm_endpoint_not_allowed', { message: `${request.method} ${target.path.slice(0, 200)} is not enabled for the provider ${provider.name}.` });
    }
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > anyBodyBytes) throw new GatehouseError('payload_too_large');
    const hasBody = declared > 0 || request.headers['transfer-encoding'] !== undefined;
    // Only the content types this endpoint takes, before a byte of the body is read (415).
    const bodyRules = { upload: match.pattern.flags.has('upload'), media: isGeminiUpload(provider, match) };
    const kind = hasBody ? bodyKind(request.headers['content-type'], bodyRules) : null;
    // A user over a token quota is refused (429) before the body is read and before it takes a
    // place among the requests in flight: a refusal costs no upload and no parse.
    if (caller.user) await llm.quotas.check({ projectId: caller.projectId, environment: caller.environment, userId: caller.user.id });
    const ticket = admit(llm, request, reply, caller, provider);
    (request as Preparable)[PREPARED] = { caller, target, provider, match, bodyKind: kind, bodyRules, ticket };
    return payload;
  };
}

/** What the prepare stage found; the handler runs only after it. */
export function preparedOf(request: FastifyRequest): Prepared {
  const state = (request as Preparable)[PREPARED];
  if (!state) throw new GatehouseError('unexpected_failure');
  return state;
}

/**
 * The request's place among the requests in flight of its user and project (admission.ts), before
 * a byte of the body is read: 429 past the caller's own limits. The origin slot is taken later,
 * just before the request goes upstream (routes.ts), so a slow upload holds none. Everything is
 * freed when the response closes, however it ends: last byte sent, the client gone (a wait for
 * the origin still under way ends there too), an upstream error answered.
 */
function admit(llm: Pick<LlmServices, 'admission'>, request: FastifyRequest, reply: FastifyReply, caller: Caller, provider: ResolvedProvider): Ticket {
  const ticket = llm.admission.admit({
    origin: provider.origin, provider: provider.name, subject: `${caller.projectId}/${actorId(caller)}`, projectId: caller.projectId,
  });
  const response = reply.raw;
  // Closed already (the client left during the checks above): 'close' will not come again.
  if (response.destroyed || request.raw.socket?.destroyed) {
    ticket.release();
    throw new GatehouseError('bad_request', { message: 'The client closed the connection.' });
  }
  response.once('close', () => ticket.release());
  return ticket;
}
