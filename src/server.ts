import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './config/index.js';
import { createDeps, type Deps } from './deps.js';
import { cutInFlight } from './http/index.js';
import { createProjectWithDevKeys } from './operations/create-project.js';
import { resumeOptimizingCompiler } from './shared/start-up-compiler.js';

export interface RunningServer {
  app: FastifyInstance;
  deps: Deps;
  url: string;
  /** Set when this start created the default project (development only): shown once. */
  firstRun?: { project: string; publishableKey: string; secretKey: string };
  close(): Promise<void>;
  /**
   * Graceful stop (SIGTERM/SIGINT): refuse new work, give requests in flight until `timeoutMs`,
   * then cut what is left, flush every buffer and close storage. `drained` when nothing had to be
   * cut, `cut` when the deadline ended some (both are a normal stop), `unflushed` when the buffers
   * or storage could not be closed in time: buffered bookkeeping may be lost.
   */
  shutdown(timeoutMs: number): Promise<ShutdownOutcome>;
  /** Brings a shutdown's deadline forward to now (a second signal): what is open is cut, buffers are still flushed. */
  hurry(): void;
}

export type ShutdownOutcome = 'drained' | 'cut' | 'unflushed';

/** After the cut: at most this long for the last events to leave before every connection is destroyed. */
const CUT_GRACE_MS = 1_000;
/** After the drain: at most this long to flush buffered events and close storage and Redis. */
const CLOSE_BUDGET_MS = 2_000;

export interface StartOptions {
  /** Where the first start's keys and the dashboard's setup link are shown, once. */
  print?: (line: string) => void;
  /** stdout is a terminal: in production the setup link is shown only there, never into a log. */
  interactive?: boolean;
}

export async function startServer(config: Readonly<Config>, options: StartOptions = {}): Promise<RunningServer> {
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
    // Start-up is over: hot request handlers are optimized again (shared/start-up-compiler.ts).
    resumeOptimizingCompiler();
    if (firstRun && options.print) printFirstRun(options.print, url, firstRun);
    if (noProject && !firstRun) deps.logger.info('no project yet: run `gatehouse init` on a terminal to create one; its keys are shown there, once');
    await offerSetupLink(deps, config, url, options);
    const server = app;
    let hurry = () => {};
    const hurried = new Promise<void>((resolve) => (hurry = resolve));
    return {
      app: server, deps, url, firstRun,
      async close() {
        await server.close();
        await deps.close();
      },
      hurry: () => hurry(),
      async shutdown(timeoutMs) {
        deps.logger.info({ timeout_ms: timeoutMs }, 'shutting down: draining requests');
        // close(): the drain refuses new requests (http/drain.ts), the listener stops, idle
        // connections go; it resolves once the last connection has ended.
        const drained = server.close();
        const cut = (await settle(timeoutMs, Promise.race([drained, hurried.then(() => Promise.reject(new Error('hurried')))]))) !== 'done';
        if (cut) {
          // Open streams are ended with an error event (the client sees the end, not a hang), the rest is reset.
          const report = cutInFlight(server.server);
          deps.logger.warn({ timeout_ms: timeoutMs, streams_ended: report.streams, connections_cut: report.connections }, 'shutdown deadline reached: closing the connections still open');
          if ((await settle(CUT_GRACE_MS, drained)) === 'timeout') server.server.closeAllConnections();
        }
        // Not chained on `drained`: a connection that will not close must not keep the buffers
        // (usage, request log, security events) from reaching the database.
        const closed = await settle(CLOSE_BUDGET_MS, deps.close());
        if (closed !== 'done') {
          deps.logger.error({ budget_ms: CLOSE_BUDGET_MS, failure: closed }, 'buffers and storage did not close cleanly: buffered entries may be lost');
          return 'unflushed';
        }
        const outcome = cut ? 'cut' : 'drained';
        deps.logger.info({ outcome }, 'stopped');
        return outcome;
      },
    };
  } catch (error) {
    await app?.close().catch(() => {});
    await deps.close();
    throw error;
  }
}

function settle(ms: number, work: Promise<unknown>): Promise<'done' | 'failed' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([work.then(() => 'done' as const, () => 'failed' as const), deadline]).finally(() => clearTimeout(timer));
}

/**
 * No operator yet: a one-time setup link for the first one (the dashboard's /_/setup). It is
 * printed once, on stdout, and never logged: in production only on a terminal, since a
 * container's stdout is a log others read; there the log says to use `gatehouse operators add`.
 */
async function offerSetupLink(deps: Deps, config: Readonly<Config>, url: string, options: StartOptions): Promise<void> {
  if (!(await deps.operators.setupNeeded())) return;
  const print = options.print;
  if (!print || (config.mode === 'production' && !options.interactive)) {
    deps.logger.info('no dashboard operator yet: run `gatehouse operators add` on a terminal, or start once on a terminal for a setup link');
    return;
  }
  const token = await deps.operators.issueSetupToken();
  if (token === null) return;
  const base = config.publicUrl ? config.publicUrl.replace(/\/+$/, '') : url;
  print('');
  print('  No dashboard operator yet. Create the first one (owner of every project) within the hour, once:');
  print(`    ${base}/_/setup#token=${token}`);
  print('');
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
