/** Route classes, for body limits and rate limits; a route belongs to exactly one. */
export const ROUTE_CLASSES = ['auth', 'llm', 'data_read', 'data_write', 'admin', 'storage', 'realtime', 'default'] as const;
export type RouteClass = (typeof ROUTE_CLASSES)[number];
