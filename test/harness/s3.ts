// A real S3-compatible server for storage tests: s3rver, in this process, on a free loopback port,
// with a fresh data directory and one bucket. Returns the GATEHOUSE_STORAGE_S3_* settings for it.
//   const s3 = await startS3();  …  startTestApp(engine, { env: s3.env });  …  await s3.stop();
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';

export interface S3Server {
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startS3(): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'gh-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: 'gatehouse-test' }] }) as {
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  };
  const { port } = await server.run();
  return {
    env: {
      GATEHOUSE_STORAGE_S3_BUCKET: 'gatehouse-test',
      GATEHOUSE_STORAGE_S3_REGION: 'us-east-1',
      GATEHOUSE_STORAGE_S3_ENDPOINT: `http://127.0.0.1:${port}`,
      // s3rver's fixed development credentials.
      GATEHOUSE_STORAGE_S3_ACCESS_KEY_ID: 'S3RVER',
      GATEHOUSE_STORAGE_S3_SECRET_ACCESS_KEY: 'S3RVER',
      GATEHOUSE_STORAGE_S3_FORCE_PATH_STYLE: 'true',
      GATEHOUSE_STORAGE_S3_PREFIX: 'tenant-a/',
    },
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
