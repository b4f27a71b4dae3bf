import type { ApiKeyService } from '../identity/api-keys/index.js';
import type { AuditLog } from '../observability/index.js';
import type { Project, ProjectService } from '../tenancy/index.js';

// An operation, not part of tenancy/: it composes tenancy (the project), identity (its keys) and the
// audit log, and tenancy sits below identity (a key belongs to a project environment).

/** A project ready to use: the project and a publishable + secret key for dev. */
export async function createProjectWithDevKeys(
  deps: { projects: ProjectService; apiKeys: ApiKeyService; audit: AuditLog },
  name: string,
  actor: string,
): Promise<{ project: Project; publishableKey: string; secretKey: string }> {
  const project = await deps.projects.create(name);
  const pk = await deps.apiKeys.create({ projectId: project.id, environment: 'dev', kind: 'publishable', name: 'default publishable key' });
  const sk = await deps.apiKeys.create({ projectId: project.id, environment: 'dev', kind: 'secret', name: 'default secret key' });
  await deps.audit.write({ projectId: project.id, environment: null, actor, action: 'project.create', target: project.id, details: { name } });
  return { project, publishableKey: pk.key, secretKey: sk.key };
}
