import type { APIGatewayProxyResult } from 'aws-lambda';
import { AppError, ConfigError, type ErrorKind } from './errors.ts';

/** The error body of every non-200 API response (contract section 3). */
export interface ErrorBody {
  readonly error: ErrorKind;
  readonly message: string;
}

/** The one table from error kind to HTTP status. */
export const STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = Object.freeze({
  BadRequest: 400,
  Forbidden: 403,
  NotFound: 404,
  BadGateway: 502,
  GatewayTimeout: 504,
  InternalServerError: 500,
});

const INTERNAL_MESSAGE = 'The guard could not process the request; the function log has the details.';

/** Builds a JSON API Gateway proxy response. */
export function jsonResponse(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/**
 * Maps any thrown value to the contract's error response. Only AppError messages, which the guard
 * writes itself, reach the body; configuration errors and unknown errors get a generic message.
 */
export function errorResponse(error: unknown): APIGatewayProxyResult {
  if (error instanceof AppError && !(error instanceof ConfigError)) {
    const body: ErrorBody = { error: error.errorKind, message: error.message };
    return jsonResponse(STATUS_BY_KIND[error.errorKind], body);
  }
  const body: ErrorBody = { error: 'InternalServerError', message: INTERNAL_MESSAGE };
  return jsonResponse(500, body);
}
