// ESM resolve hook (runs on the loader thread): every specifier the process imports, static or
// dynamic, passes here once per importer, CommonJS packages imported from ESM (pg, ioredis,
// nodemailer) included.
import { appendFileSync } from 'node:fs';

const file = process.env.TEST_MODULE_LOG_FILE;

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (file) appendFileSync(file, `${result.url}\n`);
  return result;
}
