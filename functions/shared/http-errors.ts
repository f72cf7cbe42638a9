import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { AppError, ConfigError, UpstreamError } from './errors.ts';
import { errorResponse } from './http.ts';
import { sourceMapped } from './source-maps.ts';

/**
 * Middy error handler for the API: every error becomes the contract's JSON error response.
 * Written here rather than taken from @middy/http-error-handler because the contract fixes the body
 * shape per error kind and the generic 500 text, which that middleware does not produce. The two lines
 * that carry a stack have it mapped to the TypeScript sources (`sourceMapped`, paid at the first one only).
 */
export function httpErrors(logger: Logger): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    name: 'httpErrors',
    onError: (request) => {
      const error = request.error;
      const response = errorResponse(error);
      if (error instanceof ConfigError) {
        logger.error('configuration error', { error: sourceMapped(error) });
      } else if (error instanceof AppError && response.statusCode < 500) {
        // The caller's mistake: the reason is enough, a stack trace would only bury it.
        logger.info('request refused', {
          status: response.statusCode,
          errorKind: error.errorKind,
          reason: error.message,
        });
      } else if (error instanceof AppError) {
        // Upstream trouble: what CM said and the cause's name and code, not the whole cause object
        // (a TLS failure's cause carries the peer certificate, which only bloats the line).
        logger.warn('request failed', {
          status: response.statusCode,
          errorKind: error.errorKind,
          errorName: error.name,
          reason: error.message,
          ...(error instanceof UpstreamError && { detail: error.detail }),
          ...(error.cause !== undefined && { cause: describeCause(error.cause) }),
        });
      } else {
        logger.error('unexpected error', { error: sourceMapped(error) as Error });
      }
      request.response = response;
    },
  };
}

/** Name, code and message of an error's cause, clipped: enough to diagnose, never a whole object. */
function describeCause(cause: unknown): Record<string, string> {
  if (!(cause instanceof Error)) return { message: String(cause).slice(0, 300) };
  const code = (cause as { code?: unknown }).code;
  return {
    name: cause.name,
    message: cause.message.slice(0, 300),
    ...(typeof code === 'string' && { code }),
  };
}
