import type { Project } from '../tenancy/index.js';
import { invalid, notFound, type ActionContext, type Audit, type OperationsDeps, type OperationsOptions } from './context.js';

const MAX_ORIGINS = 100;
const MAX_ORIGIN_LENGTH = 300;

/** The project and the settings of the environment acted on; a principal administers its own environment only. */
export function projectOperations(deps: Pick<OperationsDeps, 'projects' | 'config'>, audit: Audit, options: OperationsOptions) {
  const { projects } = deps;

  return {
    /** The project, with the acting environment's settings only, not its siblings'. */
    async get(ctx: ActionContext): Promise<Project> {
      const project = await projects.get(ctx.projectId);
      if (!project) throw notFound('Not found.');
      return { ...project, environments: project.environments.filter((e) => e.name === ctx.environment) };
    },

    /** Replaces the CORS allowlist of the environment (production refuses wildcards and plain http). */
    async setCorsOrigins(ctx: ActionContext, origins: readonly string[]): Promise<string[]> {
      if (origins.length > MAX_ORIGINS) throw invalid('origins', `must have at most ${MAX_ORIGINS} items`);
      for (const [i, o] of origins.entries()) {
        if (o.length < 1 || o.length > MAX_ORIGIN_LENGTH) throw invalid(`origins/${i}`, `must be 1 to ${MAX_ORIGIN_LENGTH} characters`);
      }
      await projects.setCorsOrigins(ctx.projectId, ctx.environment, [...origins], { production: deps.config.mode === 'production' });
      options.onCorsChange?.();
      await audit(ctx, { action: 'environment.cors.update', details: { origins } });
      return projects.corsOrigins(ctx.projectId, ctx.environment);
    },
  };
}
