import { ServiceUnavailableError } from '../errors/index.js';

// One answer for "the limit store is down" wherever a limit is enforced (the
// rate-limit stages, the LLM token quota): the shared backing-service 503 with a
// short Retry-After, since the limiter's Redis client retries every 200 ms
// (LIMITER_REDIS_OPTIONS).

/** `what` names the limit for humans, e.g. "Rate limiting" or "Token quota checking". */
export function limiterUnavailable(what: string, cause?: unknown): ServiceUnavailableError {
  return new ServiceUnavailableError('redis', {
    message: `${what} is temporarily unavailable, and this route does not run without it; retry shortly.`,
    retryAfterS: 1,
    cause,
  });
}
