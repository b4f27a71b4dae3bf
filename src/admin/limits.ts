// /admin/v1/limits: this environment's rate limits. The config file sets the policy of every
// project; here an environment changes it (a patch per class and tier) and sets per-user and
// per-key overrides. Changes apply on this instance at once and on every other within a second.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { LimitsConfigSchema, LimitsPolicyPatchSchema, OverrideSubjectSchema, SubjectOverrideSchema, type OverrideEntry } from '../limits/index.js';
import type { ActionContext } from '../operations/index.js';
import { actingOf, type AdminContext } from './context.js';

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

export const toOverrideJson = (o: OverrideEntry) => ({ subject: o.subject, limits: o.limits, updated_at: o.updatedAt, updated_by: o.updatedBy });

export async function limitRoutes(app: FastifyInstance, { operations }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'secret', scope: 'admin:limits', routeClass: 'admin' } as const;
  const tags = ['admin: rate limits'];
  const { limits } = operations;

  async function view(ctx: ActionContext) {
    const v = await limits.view(ctx);
    return { effective: v.effective, policy: v.policy, policy_updated_at: v.policyUpdatedAt, overrides: v.overrides.map(toOverrideJson) };
  }

  r.get('/limits', {
    config,
    schema: { tags, summary: 'The rate limits in force in this environment, its policy changes and overrides', response: { 200: LimitsView } },
  }, async (request) => view(actingOf(request)));

  r.put('/limits/policy', {
    config,
    schema: {
      tags,
      summary: 'Replace this environment\'s changes to the policy (per class: failMode and windows per tier)',
      body: LimitsPolicyPatchSchema,
      response: { 200: LimitsView },
    },
  }, async (request) => {
    const ctx = actingOf(request);
    await limits.setPolicy(ctx, request.body);
    return view(ctx);
  });

  r.delete('/limits/policy', {
    config,
    schema: { tags, summary: 'Drop this environment\'s policy changes: the config file policy applies', response: { 200: LimitsView } },
  }, async (request) => {
    const ctx = actingOf(request);
    await limits.clearPolicy(ctx);
    return view(ctx);
  });

  r.get('/limits/overrides', {
    config,
    schema: { tags, summary: 'Per-user and per-key overrides of this environment', response: { 200: Type.Object({ overrides: Type.Array(Override) }) } },
  }, async (request) => ({ overrides: (await limits.overrides(actingOf(request))).map(toOverrideJson) }));

  r.put('/limits/overrides/:subject', {
    config,
    schema: {
      tags,
      summary: 'Set the windows of one user (`user:<id>`) or key (`key:<id>`) for some route classes, raising or lowering its limits',
      params: SubjectParams,
      body: SubjectOverrideSchema,
      response: { 200: Override },
    },
  }, async (request) => toOverrideJson(await limits.setOverride(actingOf(request), request.params.subject, request.body)));

  r.delete('/limits/overrides/:subject', {
    config,
    schema: { tags, summary: 'Remove an override: the subject gets its tier\'s limits again', params: SubjectParams, response: { 204: Type.Null() } },
  }, async (request, reply) => {
    await limits.removeOverride(actingOf(request), request.params.subject);
    return reply.code(204).send(null);
  });
}
