// /admin/v1/limits: this environment's rate limits. The config file sets the policy of every
// project; here an environment changes it (a patch per class and tier) and sets per-user and
// per-key overrides. Changes apply on this instance at once and on every other within a second.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../errors/index.js';
import { holdsEveryScope } from '../identity/api-keys/index.js';
import { LimitsConfigSchema, LimitsPolicyPatchSchema, OverrideSubjectSchema, SubjectOverrideSchema, type OverrideEntry } from '../limits/index.js';
import { actorOf, callerOf, requireEveryScope, requireSecretKey, type AdminContext } from './context.js';

const Override = Type.Object({
  subject: Type.String({ description: '`user:<id>` or `key:<id>`' }),
  limits: SubjectOverrideSchema,
  updated_at: Type.String(),
  updated_by: Type.String(),
});

const LimitsView = Type.Object({
  effective: LimitsConfigSchema,
  policy: Type.Union([LimitsPolicyPatchSchema, Type.Null()], { description: 'This environment\'s changes to the config file policy' }),
  policy_updated_at: Type.Union([Type.String(), Type.Null()]),
  overrides: Type.Array(Override),
});

const SubjectParams = Type.Object({ subject: OverrideSubjectSchema }, { additionalProperties: false });

const toOverrideJson = (o: OverrideEntry) => ({ subject: o.subject, limits: o.limits, updated_at: o.updatedAt, updated_by: o.updatedBy });

// Limits bound the caller too. The policy sets the tier every admin caller falls under, so only
// a secret key holding every scope changes it; an admin user changes no limit at all (its own
// override or tier would be among them); and no scoped key touches its own override.
const POLICY_NEEDS = 'Only a secret key with every scope can change the rate-limit policy (its tiers bound the caller too).';

function requireOverrideWriter(request: FastifyRequest, subject: string) {
  const caller = requireSecretKey(request, 'Only a secret key can change rate-limit overrides.');
  if (subject === `key:${caller.key.id}` && !holdsEveryScope(caller.key.scopes)) {
    throw new GatehouseError('forbidden', { message: 'A scoped key cannot change its own rate-limit override.' });
  }
  return caller;
}

export async function limitRoutes(app: FastifyInstance, { deps }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'secret', scope: 'admin:limits', routeClass: 'admin' } as const;
  const tags = ['admin: rate limits'];
  const settings = deps.rateLimits.settings;

  async function view(projectId: string, environment: string) {
    const [effective, policy, overrides] = await Promise.all([
      settings.effective(projectId, environment),
      settings.getPolicy(projectId, environment),
      settings.listOverrides(projectId, environment),
    ]);
    return { effective, policy: policy?.patch ?? null, policy_updated_at: policy?.updatedAt ?? null, overrides: overrides.map(toOverrideJson) };
  }

  r.get('/limits', {
    config,
    schema: { tags, summary: 'The rate limits in force in this environment, its policy changes and overrides', response: { 200: LimitsView } },
  }, async (request) => {
    const caller = callerOf(request);
    return view(caller.projectId, caller.environment);
  });

  r.put('/limits/policy', {
    config,
    schema: {
      tags,
      summary: 'Replace this environment\'s changes to the policy (per class: failMode and windows per tier)',
      body: LimitsPolicyPatchSchema,
      response: { 200: LimitsView },
    },
  }, async (request) => {
    const caller = requireEveryScope(request, POLICY_NEEDS);
    await settings.setPolicy(caller.projectId, caller.environment, request.body, actorOf(request));
    await deps.audit.write({ projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'rate_limits.policy.set', target: null, details: { policy: request.body } });
    return view(caller.projectId, caller.environment);
  });

  r.delete('/limits/policy', {
    config,
    schema: { tags, summary: 'Drop this environment\'s policy changes: the config file policy applies', response: { 200: LimitsView } },
  }, async (request) => {
    const caller = requireEveryScope(request, POLICY_NEEDS);
    if (await settings.clearPolicy(caller.projectId, caller.environment)) {
      await deps.audit.write({ projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'rate_limits.policy.clear', target: null });
    }
    return view(caller.projectId, caller.environment);
  });

  r.get('/limits/overrides', {
    config,
    schema: { tags, summary: 'Per-user and per-key overrides of this environment', response: { 200: Type.Object({ overrides: Type.Array(Override) }) } },
  }, async (request) => {
    const caller = callerOf(request);
    return { overrides: (await settings.listOverrides(caller.projectId, caller.environment)).map(toOverrideJson) };
  });

  r.put('/limits/overrides/:subject', {
    config,
    schema: {
      tags,
      summary: 'Set the windows of one user (`user:<id>`) or key (`key:<id>`) for some route classes, raising or lowering its limits',
      params: SubjectParams,
      body: SubjectOverrideSchema,
      response: { 200: Override },
    },
  }, async (request) => {
    const caller = requireOverrideWriter(request, request.params.subject);
    const entry = await settings.setOverride(caller.projectId, caller.environment, request.params.subject, request.body, actorOf(request));
    await deps.audit.write({ projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'rate_limits.override.set', target: entry.subject, details: { limits: request.body } });
    return toOverrideJson(entry);
  });

  r.delete('/limits/overrides/:subject', {
    config,
    schema: { tags, summary: 'Remove an override: the subject gets its tier\'s limits again', params: SubjectParams, response: { 204: Type.Null() } },
  }, async (request, reply) => {
    const caller = requireOverrideWriter(request, request.params.subject);
    if (!(await settings.removeOverride(caller.projectId, caller.environment, request.params.subject))) throw new GatehouseError('not_found', { message: 'No override for this subject.' });
    await deps.audit.write({ projectId: caller.projectId, environment: caller.environment, actor: actorOf(request), action: 'rate_limits.override.remove', target: request.params.subject });
    return reply.code(204).send(null);
  });
}
