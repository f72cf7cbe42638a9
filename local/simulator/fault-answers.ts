import { randomUUID } from 'node:crypto';
import { defaultErrorBody, type FaultSpec } from './faults.ts';
import type { Reply } from './http.ts';
import type { KeyStore } from './store.ts';

/** The request a fault answers, as far as an answer may repeat it. */
export interface FaultedRequest {
  readonly method: string;
  readonly path: string;
  readonly rawBody: string;
  readonly authorization: string | undefined;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The answer of a rule that replaces the real one: `status` with its body, or an echo. */
export function faultReply(spec: FaultSpec, req: FaultedRequest): Reply {
  const status = spec.status ?? (spec.echo ? 502 : 500);
  const headers: Record<string, string> = { ...(spec.headers ?? {}) };
  if (spec.retryAfter !== undefined) headers['retry-after'] = String(spec.retryAfter);
  if (spec.echo) {
    const { body, contentType } = echoBody(spec, status, req);
    headers['content-type'] = spec.contentType ?? contentType;
    return { status, headers, body };
  }
  if (spec.contentType) headers['content-type'] = spec.contentType;
  const body = spec.body ?? (status >= 400 ? defaultErrorBody(status) : {});
  return { status, headers, body };
}

/** Text repeating the request, wrapped as `echoFormat` says (a proxy's or a server's error page). */
function echoBody(
  spec: FaultSpec,
  status: number,
  req: FaultedRequest,
): { body: string; contentType: string } {
  const auth = spec.echo === 'body+authorization' ? (req.authorization ?? '') : undefined;
  const line = `${req.method} ${req.path}`;
  const text = `upstream request failed: ${line} body: ${req.rawBody}${auth === undefined ? '' : ` Authorization: ${auth}`}`;
  const title = `${status} ${STATUS_TEXT[status] ?? 'Error'}`;
  switch (spec.echoFormat ?? 'json') {
    case 'text':
      return { body: `${title}\n${text}\n`, contentType: 'text/plain; charset=utf-8' };
    case 'html':
      return {
        body: `<html><head><title>${title}</title></head><body><h1>${title}</h1><p>${line}</p><pre>${req.rawBody}</pre>${auth === undefined ? '' : `<p>Authorization: ${auth}</p>`}</body></html>`,
        contentType: 'text/html; charset=utf-8',
      };
    case 'urlencoded':
      return {
        body: `error=${status}&request=${encodeURIComponent(req.rawBody)}${auth === undefined ? '' : `&authorization=${encodeURIComponent(auth)}`}`,
        contentType: 'application/x-www-form-urlencoded',
      };
    default:
      return {
        body: JSON.stringify({ ...defaultErrorBody(status), message: text }),
        contentType: 'application/json',
      };
  }
}

/** A KMS refusal passed through CCKM (`kmsError`), with the key's identity filled in; nothing changes. */
export function kmsRefusal(spec: FaultSpec, req: FaultedRequest, store: KeyStore): Reply {
  const m = /^\/api\/v1\/cckm\/aws\/keys\/([^/]+)/.exec(req.path);
  const id = m ? decodeURIComponent(m[1]!) : '';
  const key = id ? store.get(id) : undefined;
  const text = (spec.kmsError ?? '')
    .replaceAll('{arn}', key?.aws_param.Arn ?? `arn:aws:kms:unknown:000000000000:key/${id}`)
    .replaceAll('{keyId}', key?.aws_param.KeyID ?? id)
    .replaceAll('{id}', id);
  const headers: Record<string, string> = { ...(spec.headers ?? {}) };
  if (spec.retryAfter !== undefined) headers['retry-after'] = String(spec.retryAfter);
  return {
    status: spec.status ?? 400,
    headers,
    body: {
      code: 10,
      codeDesc: 'NCERRBadRequest',
      message: `${spec.kmsException ?? 'KMSInvalidStateException'}: ${text}`,
    },
  };
}

/** Alters a real 2xx answer as `spec.tamper` says (`ignore-keystate` acts before the handler). */
export function tamperReply(reply: Reply, spec: FaultSpec): Reply {
  const tamper = spec.tamper;
  if (!tamper || tamper === 'ignore-keystate' || reply.status >= 300) return reply;
  if (reply.body === null || typeof reply.body !== 'object') return reply;
  const body = reply.body as { resources?: unknown; id?: unknown };
  let target: Record<string, unknown> | undefined;
  if (Array.isArray(body.resources)) {
    const page = body.resources as Record<string, unknown>[];
    if (page.length === 0) return reply;
    target = page[Math.min(spec.tamperIndex ?? 0, page.length - 1)];
  } else if (typeof body.id === 'string') {
    target = body as Record<string, unknown>;
  }
  if (!target) return reply;
  if (tamper === 'missing-arn') {
    const p = target.aws_param as Record<string, unknown> | undefined;
    if (p) delete p.Arn;
  } else if (tamper === 'non-uuid-id') {
    target.id = 'not-a-uuid';
  } else {
    target.id = randomUUID();
  }
  return reply;
}
