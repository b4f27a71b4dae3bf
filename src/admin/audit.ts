import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ExportedEntry } from '../operations/index.js';
import { actingOf, type AdminContext } from './context.js';

// The audit chain of the caller's project environment: the verdict, the head to keep elsewhere,
// and the whole log as JSON lines. Same scope as reading the audit log: these read nothing more.
export async function auditRoutes(app: FastifyInstance, { operations }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['admin: logs'];
  const config = { auth: 'secret', scope: 'admin:logs', routeClass: 'admin' } as const;

  r.get('/audit/verify', {
    config,
    schema: { tags, summary: 'Walk the audit chains of this environment and name the first entry changed, removed or reordered' },
  }, async (request) => operations.audit.verify(actingOf(request)));

  r.get('/audit/head', {
    config,
    schema: { tags, summary: 'Last seq and hash of each audit chain, to keep outside the database' },
  }, async (request) => operations.audit.head(actingOf(request)));

  r.get('/audit/export', {
    config,
    schema: { tags, summary: 'Every audit entry with its seq, prev_hash and hash, one JSON object per line (application/x-ndjson)' },
  }, async (request, reply) => {
    const entries = operations.audit.export(actingOf(request));
    // The first page is read before the status is sent, so a database outage is a 503 and not
    // a 200 cut short.
    const first = await entries.next();
    reply.type('application/x-ndjson');
    return reply.send(Readable.from(lines(first, entries)));
  });
}

async function* lines(first: IteratorResult<ExportedEntry>, rest: AsyncGenerator<ExportedEntry>): AsyncGenerator<string> {
  if (first.done) return;
  yield `${JSON.stringify(first.value)}\n`;
  for await (const entry of rest) yield `${JSON.stringify(entry)}\n`;
}
