/**
 * One error model for every function. The domain and adapters throw these; `shared/http.ts` maps
 * them to API responses and the remediation maps them to the `failed` outcome.
 */

/** The error names of the API's error bodies (contract section 3), one per AppError class. */
export type ErrorKind =
  | 'BadRequest'
  | 'Forbidden'
  | 'NotFound'
  | 'BadGateway'
  | 'GatewayTimeout'
  | 'InternalServerError';

/** Base of every error the guard raises on purpose. */
export abstract class AppError extends Error {
  /** The body's `error` and, through one table, the HTTP status. */
  abstract readonly errorKind: ErrorKind;

  /** Each subclass names itself literally: bundles are minified, so constructor names are not kept. */
  abstract override readonly name: string;
}

/** Input that cannot be acted on; nothing reached CipherTrust Manager. */
export class ValidationError extends AppError {
  override readonly name: string = 'ValidationError';
  readonly errorKind = 'BadRequest' as const;
}

/** The key's account or Region is outside the deployment's scope; nothing state-changing was called. */
export class ForbiddenError extends AppError {
  override readonly name: string = 'ForbiddenError';
  readonly errorKind = 'Forbidden' as const;
}

/** CipherTrust Manager does not know the key. */
export class NotFoundError extends AppError {
  override readonly name: string = 'NotFoundError';
  readonly errorKind = 'NotFound' as const;
}

/** What CipherTrust Manager said when it refused or failed a call. */
export interface CmErrorDetail {
  /** HTTP status, absent for network failures. */
  readonly status?: number;
  /** `codeDesc` prefix such as `NCERRResourceNotFound`, when the body had one. */
  readonly codeDesc?: string;
  /** `message` or the text after the `codeDesc` prefix; never contains credentials. */
  readonly cmMessage?: string;
}

/** CipherTrust Manager failed after retries, answered something unusable, or refused a call. */
export class UpstreamError extends AppError {
  override readonly name: string = 'UpstreamError';
  readonly errorKind = 'BadGateway' as const;
  readonly detail: CmErrorDetail;

  constructor(message: string, detail: CmErrorDetail = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.detail = detail;
  }
}

/** CipherTrust Manager refused our credentials (after a fresh secret read and token). */
export class AuthenticationError extends UpstreamError {
  override readonly name: string = 'AuthenticationError';
}

/** The time budget (`CCKM_TIMEOUT_MS` or the Lambda's remaining time) ran out. */
export class TimeoutError extends AppError {
  override readonly name: string = 'TimeoutError';
  readonly errorKind = 'GatewayTimeout' as const;
}

/** The function is misconfigured (environment or secret); details go to the log only. */
export class ConfigError extends AppError {
  override readonly name: string = 'ConfigError';
  readonly errorKind = 'InternalServerError' as const;
}

/** An error's name and message (bounded) for a log line: never its metadata, which is not worth logging. */
export function errorFields(error: unknown): { readonly errorName: string; readonly errorMessage: string } {
  return {
    errorName: error instanceof Error ? error.name : 'Error',
    errorMessage: (error instanceof Error ? error.message : String(error)).slice(0, 300),
  };
}
