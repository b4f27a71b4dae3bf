import type { FastifyInstance } from 'fastify';

// GET /: what someone who opens the server's address in a browser sees, instead of a 404. A
// static page: no script, no external asset (the security headers' CSP allows only this origin
// and inline styles), and nothing about the projects or the configuration: it is public.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gatehouse</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
a { color: #0550ae; }
</style>
</head>
<body>
<h1>Gatehouse</h1>
<p>This server is running.</p>
<ul>
<li><a href="/docs">API reference</a> (OpenAPI: <a href="/openapi.json">/openapi.json</a>)</li>
<li><a href="/health">/health</a>: the process is up</li>
<li><a href="/ready">/ready</a>: the database answers</li>
</ul>
</body>
</html>
`;

export async function homeRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', {
    config: { auth: 'public' },
    schema: { tags: ['operations'], summary: 'A small page linking the API reference, health and readiness', hide: true },
  }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
}
