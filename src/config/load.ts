import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { CLIENT_VARS, ConfigSchema, ENV_VARS, LIST_KEYS, LOADER_VARS, type Config } from './schema.js';
import { checkProductionSafety } from './production.js';
import { allowedValues, closest, jsonErrorPosition } from './explain.js';

/** A bad setting: the message names the setting and what is expected, never its value if secret. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** Path of a JSON config file; else GATEHOUSE_CONFIG; else none. Env wins over the file. */
  configFile?: string;
  cwd?: string;
  /** Values given on the command line (e.g. `--port`), which win over everything. */
  overrides?: Record<string, unknown>;
}

type Json = Record<string, unknown>;

function setPath(target: Json, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    node = (next && typeof next === 'object' ? next : (node[part] = {})) as Json;
  }
  node[parts[parts.length - 1]!] = value;
}

function readConfigFile(path: string): { data: Json; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { data: {}, problems: [`config file ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`] };
  }
  try {
    const data: unknown = JSON.parse(text);
    if (!data || typeof data !== 'object' || Array.isArray(data)) {
      return { data: {}, problems: [`config file ${path}: expected a JSON object`] };
    }
    return { data: data as Json, problems: [] };
  } catch {
    return { data: {}, problems: [`config file ${path}: not valid JSON at ${jsonErrorPosition(text)}`] };
  }
}

/**
 * The sole reader of process.env. Merges defaults < config file < environment <
 * overrides, validates once, and returns a deep-frozen Config. Throws
 * ConfigError listing every problem at once.
 */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const problems: string[] = [];
  const sources = new Map<string, string>();

  const filePath = options.configFile ?? env.GATEHOUSE_CONFIG;
  let merged: Json = {};
  if (filePath) {
    const file = readConfigFile(resolve(cwd, filePath));
    problems.push(...file.problems);
    merged = file.data;
  }

  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined) continue;
    const key = (ENV_VARS as Record<string, string>)[name];
    if (!key) {
      if (name.startsWith('GATEHOUSE_') && !LOADER_VARS.has(name) && !CLIENT_VARS.has(name)) {
        const near = closest(name, [...Object.keys(ENV_VARS), ...LOADER_VARS].filter((k) => k.startsWith('GATEHOUSE_')));
        problems.push(`${name}: unknown setting; ${near ? `did you mean ${near}?` : 'see the settings table in the README'}`);
      }
      continue;
    }
    if (raw === '') continue;
    const value = LIST_KEYS.has(key) ? raw.split(',').map((s) => s.trim()).filter(Boolean) : raw;
    setPath(merged, key, value);
    sources.set('/' + key.replaceAll('.', '/'), name);
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value === undefined) continue;
    setPath(merged, key, value);
    sources.set('/' + key.replaceAll('.', '/'), `--${key}`);
  }

  const candidate = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, structuredClone(merged)));
  for (const error of Value.Errors(ConfigSchema, candidate)) {
    const source = sources.get(error.path) ?? sources.get(error.path.replace(/\/\d+$/, ''));
    const where = source ?? (filePath ? `${filePath} ${error.path || '/'}` : error.path || 'config');
    const secret = /masterKey|smtpUrl|metricsToken|secretAccessKey/i.test(error.path);
    const got = secret || error.value === undefined ? '' : ` (got ${JSON.stringify(error.value).slice(0, 60)})`;
    problems.push(`${where}: ${allowedValues(error.schema) ?? error.message}${got}`);
  }
  if (problems.length > 0) throw new ConfigError(dedupe(problems));

  const config = candidate as Config;
  config.dataDir = isAbsolute(config.dataDir) ? config.dataDir : resolve(cwd, config.dataDir);
  if (config.masterKeyFile) config.masterKeyFile = resolve(cwd, config.masterKeyFile);

  const unsafe = checkProductionSafety(config);
  if (unsafe.length > 0) throw new ConfigError(unsafe);
  return deepFreeze(config);
}

function dedupe(items: string[]): string[] {
  return [...new Set(items)];
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
