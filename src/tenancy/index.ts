export { ENVIRONMENTS, isEnvironment, type Environment } from './environments.js';
export { createProjectService, PROJECT_NAME_PATTERN, type Project, type ProjectService } from './projects.js';
export { compileOrigins, validateOrigin, type OriginMatcher } from './origins.js';
