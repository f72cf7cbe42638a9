import { z } from 'zod';
import { ValidationError } from '../shared/errors.ts';
import { type AwsKeyRef, parseCckmId, parseKeyArn, parseKeyIdRef } from './aws-key-ref.ts';

/** What an API caller asked for, validated: which key, and whether to enable it after the cancel. */
export type CancelCommand =
  | { readonly by: 'cckm-id'; readonly id: string; readonly enable: boolean }
  | { readonly by: 'aws-key'; readonly ref: AwsKeyRef; readonly enable: boolean };

/** The parts of an API Gateway REST proxy event the route reads. */
export interface ApiRequest {
  readonly resource?: string | null;
  readonly httpMethod?: string | null;
  readonly pathParameters?: Readonly<Record<string, string | undefined>> | null;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean | null;
}

/** Route templates of contract section 3, as API Gateway names them in `event.resource`. */
export const ROUTES = {
  byId: '/keys/{id}/cancel-deletion',
  byAwsKey: '/aws-keys/cancel-deletion',
} as const;

/** Request bodies are tiny; anything larger is refused before parsing. */
export const MAX_REQUEST_BODY_BYTES = 4096;

const byIdBody = z.strictObject({ enable: z.boolean().optional() });
const byAwsKeyBody = z.strictObject({
  arn: z.string().optional(),
  keyId: z.string().optional(),
  region: z.string().optional(),
  enable: z.boolean().optional(),
});

function readBody(request: ApiRequest): unknown {
  const raw = request.body;
  if (raw === undefined || raw === null || raw.trim() === '') return undefined;
  const text = request.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > MAX_REQUEST_BODY_BYTES) {
    throw new ValidationError(`body must be at most ${MAX_REQUEST_BODY_BYTES} bytes`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('body must be valid JSON');
  }
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'body is invalid';
  if (issue.code === 'unrecognized_keys')
    return `body has unknown field(s): ${issue.keys.join(', ').slice(0, 200)}`;
  const field = issue.path.join('.');
  if (!field) return 'body must be a JSON object';
  return `body field ${field} must be a ${issue.code === 'invalid_type' ? issue.expected : 'valid value'}`;
}

function parseWith<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) throw new ValidationError(describe(result.error));
  return result.data;
}

/** Validates a request of either route into a command, or throws a ValidationError naming what is wrong. */
export function parseCancelRequest(request: ApiRequest): CancelCommand {
  if (request.httpMethod && request.httpMethod.toUpperCase() !== 'POST') {
    throw new ValidationError('method must be POST');
  }
  if (request.resource === ROUTES.byId) {
    const id = parseCckmId(request.pathParameters?.id, 'path parameter id');
    const body = parseWith(byIdBody, readBody(request));
    return { by: 'cckm-id', id, enable: body.enable ?? false };
  }
  if (request.resource === ROUTES.byAwsKey) {
    const body = parseWith(byAwsKeyBody, readBody(request));
    const enable = body.enable ?? false;
    if (body.arn !== undefined) {
      if (body.keyId !== undefined || body.region !== undefined) {
        throw new ValidationError('body must have either arn, or keyId and region, not both');
      }
      return { by: 'aws-key', ref: parseKeyArn(body.arn), enable };
    }
    if (body.keyId === undefined || body.region === undefined) {
      throw new ValidationError('body must have arn, or keyId and region');
    }
    return { by: 'aws-key', ref: parseKeyIdRef(body.keyId, body.region), enable };
  }
  throw new ValidationError(`unknown route ${String(request.resource ?? '').slice(0, 100)}`);
}
