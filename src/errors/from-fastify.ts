import { GatehouseError } from './gatehouse-error.js';

// Fastify and its parsers throw their own errors (FST_ERR_*); map the ones a
// client can cause to our codes so that every rejection has our shape. Anything
// unknown becomes unexpected_failure: its cause is logged, never sent.
const FASTIFY_CODES: Record<string, (e: FastifyLikeError) => GatehouseError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new GatehouseError('payload_too_large'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new GatehouseError('unsupported_media_type'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    new GatehouseError('bad_request', { message: 'Content-Length does not match the body.' }),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    new GatehouseError('invalid_json', { message: 'Content-Type is application/json but the body is empty.' }),
  FST_ERR_CTP_INVALID_JSON_BODY: () => new GatehouseError('invalid_json'),
  FST_ERR_BAD_URL: () => new GatehouseError('bad_request', { message: 'The URL is malformed.' }),
  FST_ERR_ASYNC_CONSTRAINT: () => new GatehouseError('bad_request'),
};

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  validation?: Array<{ instancePath?: string; message?: string; params?: unknown; keyword?: string }>;
  validationContext?: string;
  message?: string;
}

export function toGatehouseError(error: unknown): GatehouseError {
  if (error instanceof GatehouseError) return error;
  const e = (error ?? {}) as FastifyLikeError;
  if (Array.isArray(e.validation)) {
    const where = e.validationContext ?? 'body';
    const details = e.validation.map((v) => ({
      field: `${where}${v.instancePath ?? ''}`,
      problem: v.message ?? v.keyword ?? 'invalid',
    }));
    const first = details[0];
    return new GatehouseError('validation_failed', {
      message: first ? `${first.field}: ${first.problem}` : undefined,
      details,
    });
  }
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) return mapped(e);
  // SyntaxError from JSON parsing inside a content-type parser.
  if (error instanceof SyntaxError) return new GatehouseError('invalid_json', { cause: error });
  return new GatehouseError('unexpected_failure', { cause: error });
}
