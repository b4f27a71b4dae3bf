import type { FastifyContextConfig, FastifyRequest } from 'fastify';

export interface RouteInfo {
  /** The route's pattern (`/llm/*`), undefined when no route matched. */
  url: string | undefined;
  config: FastifyContextConfig;
}

const MEMO = Symbol('gatehouse.routeInfo');
type Memo = FastifyRequest & { [MEMO]?: RouteInfo };

/**
 * The matched route's pattern and config, read once per request. Fastify's
 * `request.routeOptions` is a getter that builds and freezes a fresh object on
 * every access, and the pipeline stages ask for it several times per request.
 */
export function routeInfo(request: FastifyRequest): RouteInfo {
  const memo = request as Memo;
  let info = memo[MEMO];
  if (!info) {
    const options = request.routeOptions;
    info = { url: options.url, config: options.config };
    memo[MEMO] = info;
  }
  return info;
}
