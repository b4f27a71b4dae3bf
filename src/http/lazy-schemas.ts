// Route schemas compiled on first use instead of at start-up (issue 18: compiling every route's
// Ajv validator and fast-json-stringify serializer was ~0.3 s of a 1.5 s start, for routes most
// instances never serve). Fastify takes compiler factories (`schemaController.compilersFactory`);
// these wrap its own default ones, so validation and serialisation are exactly Fastify's, only later.
// A schema that cannot compile would now fail on its route's first request (as a 500), not at
// start: `compileAllSchemas(app)` compiles every pending one, and a test runs it over the whole app.
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { AjvCompiler } from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

type Compile<Fn> = (route: Record<string, unknown>) => Fn;
type Validate = ((data: unknown, context?: unknown) => unknown) & { errors?: unknown };
type Serialize = (payload: unknown) => string;

export interface LazySchemaCompilers {
  /** The `schemaController.compilersFactory` option of Fastify. */
  compilersFactory: CompilersFactory;
  /** Compiles every schema not compiled yet; returns how many were pending. Throws on the first bad one. */
  compileAll(): number;
}

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

const registry = new WeakMap<FastifyInstance, LazySchemaCompilers>();

export function createLazySchemaCompilers(): LazySchemaCompilers {
  const pending = new Set<() => unknown>();
  const defaultValidator = AjvCompiler() as unknown as (externalSchemas: unknown, options: unknown) => Compile<Validate>;
  const defaultSerializer = SerializerSelector() as unknown as (externalSchemas: unknown, options: unknown) => Compile<Serialize>;

  /** Defers both the factory (an Ajv instance per plugin context) and each route's compile. */
  function deferFactory<Fn>(factory: (externalSchemas: unknown, options: unknown) => Compile<Fn>, externalSchemas: unknown, options: unknown) {
    let compiler: Compile<Fn> | undefined;
    return (route: Record<string, unknown>) => {
      let compiled: Fn | undefined;
      const get = (): Fn => {
        if (compiled === undefined) {
          compiled = (compiler ??= factory(externalSchemas, options))(route);
          pending.delete(get);
        }
        return compiled;
      };
      pending.add(get);
      return get;
    };
  }

  const factory = {
    buildValidator(externalSchemas: unknown, options: unknown): Compile<Validate> {
      const defer = deferFactory(defaultValidator, externalSchemas, options);
      return (route) => {
        const get = defer(route);
        // Fastify reads `.errors` after a failed call, and passes the parent object (so Ajv can
        // coerce or default a root value) only to a function that has `schemaEnv`, as Ajv's do.
        const validate: Validate = (data, context) => {
          const fn = get();
          const result = fn(data, context);
          validate.errors = fn.errors;
          return result;
        };
        (validate as Validate & { schemaEnv: boolean }).schemaEnv = true;
        return validate;
      };
    },
    buildSerializer(externalSchemas: unknown, options: unknown): Compile<Serialize> {
      const defer = deferFactory(defaultSerializer, externalSchemas, options);
      return (route) => {
        const get = defer(route);
        return (payload) => get()(payload);
      };
    },
  };
  return {
    // Cast: Fastify types these factories per schema dialect; ours take and return the same values.
    compilersFactory: factory as unknown as CompilersFactory,
    compileAll() {
      const count = pending.size;
      for (const get of [...pending]) get();
      return count;
    },
  };
}

export function registerLazySchemas(app: FastifyInstance, compilers: LazySchemaCompilers): void {
  registry.set(app, compilers);
}

/** Compiles every route schema of `app` now (tests; an operator who prefers failing at start). */
export function compileAllSchemas(app: FastifyInstance): number {
  const compilers = registry.get(app);
  if (!compilers) throw new Error('compileAllSchemas: this app was not built with lazy schemas');
  return compilers.compileAll();
}
