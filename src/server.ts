import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './config/index.js';
import { createDeps, type Deps } from './deps.js';
import { createProjectWithDevKeys } from './operations/create-project.js';

export interface RunningServer {
  app: FastifyInstance;
  deps: Deps;
  url: string;
  /** Set when this start created the default project (development only): shown once. */
  firstRun?: { project: string; publishableKey: string; secretKey: string };
  close(): Promise<void>;
  /**
   * Graceful stop (SIGTERM/SIGINT): refuse new work, give requests in flight until `timeoutMs`,
   * then cut what is left; `clean` when nothing had to be cut.
   */
  shutdown(timeoutMs: number): Promise<'clean' | 'forced'>;
}

/** After the drain: at most this long to flush buffered events and close storage and Redis. */
const CLOSE_BUDGET_MS = 2_000;

export async function startServer(config: Readonly<Config>, options: { print?: (line: string) => void } = {}): Promise<RunningServer> {
  const startedAt = performance.now();
  const deps = await createDeps(config);
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp(deps);
    let firstRun: RunningServer['firstRun'];
    // In production stdout is the log (a container's, a journal), which others read and keep: a
    // first start there makes no key at all, and `gatehouse init` shows the keys on the operator's
    // own terminal instead. Development keeps the one-step start.
    const noProject = (await deps.projects.list()).length === 0;
    if (noProject && config.mode === 'development') {
      const created = await createProjectWithDevKeys(deps, 'default', 'first-run');
      firstRun = { project: created.project.name, publishableKey: created.publishableKey, secretKey: created.secretKey };
    }
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const scheme = config.tls ? 'https' : 'http';
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `${scheme}://${host}:${port}`;
    deps.logger.info({ url, engine: deps.storage.engine, mode: config.mode, ready_ms: Math.round(performance.now() - startedAt) }, 'gatehouse ready');
    if (firstRun && options.print) printFirstRun(options.print, url, firstRun);
    if (noProject && !firstRun) deps.logger.info('no project yet: run `gatehouse init` on a terminal to create one; its keys are shown there, once');
    const server = app;
    return {
      app: server, deps, url, firstRun,
      async close() {
        await server.close();
        await deps.close();
      },
      async shutdown(timeoutMs) {
        deps.logger.info({ timeout_ms: timeoutMs }, 'shutting down: draining requests');
        // close(): the drain refuses new requests (http/drain.ts), the listener stops, idle
        // connections go; it resolves once the last connection has ended.
        const drained = server.close();
        const outcome = await within(timeoutMs, drained);
        if (outcome === 'timeout') {
          deps.logger.warn({ timeout_ms: timeoutMs }, 'shutdown deadline reached: closing the connections still open');
          server.server.closeAllConnections();
        }
        // A handler stuck on a dead database can hold its pool client: bounded, not awaited forever.
        const closed = await within(CLOSE_BUDGET_MS, drained.then(() => deps.close()));
        if (closed === 'timeout') deps.logger.warn('storage did not close in time');
        else deps.logger.info({ outcome: outcome === 'done' ? 'clean' : 'forced' }, 'stopped');
        return outcome === 'done' && closed === 'done' ? 'clean' : 'forced';
      },
    };
  } catch (error) {
    await app?.close().catch(() => {});
    await deps.close();
    throw error;
  }
}

function within(ms: number, work: Promise<unknown>): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([work.then(() => 'done' as const, () => 'done' as const), deadline]).finally(() => clearTimeout(timer));
}

function printFirstRun(print: (line: string) => void, url: string, keys: NonNullable<RunningServer['firstRun']>): void {
  // Printed to stdout for the person who just started it, never to the log.
  print('');
  print(`  Gatehouse created the project "${keys.project}". Its dev keys are shown ONCE — save them now:`);
  print(`    publishable (client side): ${keys.publishableKey}`);
  print(`    secret      (server side): ${keys.secretKey}`);
  print('');
  print('  Try it:');
  print(`    curl -s ${url}/admin/v1/project -H "apikey: ${keys.secretKey}"`);
  print('');
}
