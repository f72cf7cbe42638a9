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

/** The fields each route's body may have, and their JSON type: anything else is refused. */
type BodyFields = Readonly<Record<string, 'boolean' | 'string'>>;
type BodyOf<F extends BodyFields> = { readonly [K in keyof F]?: F[K] extends 'boolean' ? boolean : string };

const BY_ID_FIELDS = { enable: 'boolean' } as const;
const BY_AWS_KEY_FIELDS = { arn: 'string', keyId: 'string', region: 'string', enable: 'boolean' } as const;

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

/**
 * The body as an object of the route's fields, or a ValidationError naming the first mistyped field,
 * else the unknown fields. Written by hand rather than with a schema library: two flat objects, checked
 * on every API call and built at every cold start.
 */
function parseBody<F extends BodyFields>(fields: F, body: unknown): BodyOf<F> {
  const value = body ?? {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ValidationError('body must be a JSON object');
  const record = value as Record<string, unknown>;
  for (const [field, type] of Object.entries(fields)) {
    const v = record[field];
    if (v !== undefined && typeof v !== type)
      throw new ValidationError(`body field ${field} must be a ${type}`);
  }
  const unknown = Object.keys(record).filter((k) => !Object.hasOwn(fields, k));
  if (unknown.length > 0) {
    throw new ValidationError(`body has unknown field(s): ${unknown.join(', ').slice(0, 200)}`);
  }
  return record as BodyOf<F>;
}

/** Validates a request of either route into a command, or throws a ValidationError naming what is wrong. */
export function parseCancelRequest(request: ApiRequest): CancelCommand {
  if (request.httpMethod && request.httpMethod.toUpperCase() !== 'POST') {
    throw new ValidationError('method must be POST');
  }
  if (request.resource === ROUTES.byId) {
    const id = parseCckmId(request.pathParameters?.id, 'path parameter id');
    const body = parseBody(BY_ID_FIELDS, readBody(request));
    return { by: 'cckm-id', id, enable: body.enable ?? false };
  }
  if (request.resource === ROUTES.byAwsKey) {
    const body = parseBody(BY_AWS_KEY_FIELDS, readBody(request));
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
