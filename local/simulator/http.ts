import type { IncomingMessage, ServerResponse } from 'node:http';

/** One answer of the simulator: a status, a JSON-able or string body, extra headers. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A CipherTrust Manager error body (reference/cckm-api.md section 6). */
export const cmError = (status: number, code: number, codeDesc: string, message?: string): Reply => ({
  status,
  body: message === undefined ? { code, codeDesc } : { code, codeDesc, message },
});

export const notFound = (): Reply => cmError(404, 16, 'NCERRResourceNotFound: Resource not found');
export const badParam = (what: string): Reply => cmError(400, 15, `NCERRInvalidParamValue: ${what}`);
export const methodNotAllowed = (): Reply => cmError(405, 10, 'NCERRBadRequest: method not allowed');

/** Parses a request body as a JSON object; an empty body is `{}`. */
export function parseJsonObject(rawBody: string): Record<string, unknown> | Reply {
  if (rawBody.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(rawBody);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return cmError(400, 10, 'NCERRBadRequest: request body must be a JSON object');
    }
    return parsed as Record<string, unknown>;
  } catch {
    return cmError(400, 10, 'NCERRBadRequest: invalid JSON in request body');
  }
}

/** A listing's `limit` (default 10, -1 for all) and `skip` (default 0), or the 400 CCKM answers. */
export function parsePaging(q: URLSearchParams): { limit: number; skip: number } | Reply {
  const limitRaw = q.get('limit');
  const skipRaw = q.get('skip');
  const limit = limitRaw === null || limitRaw === '' ? 10 : Number(limitRaw);
  const skip = skipRaw === null || skipRaw === '' ? 0 : Number(skipRaw);
  if (!Number.isInteger(limit) || limit < -1) return badParam('limit must be an integer, -1 for all');
  if (!Number.isInteger(skip) || skip < 0) return badParam('skip must be a non-negative integer');
  return { limit, skip };
}

/** True when `v` is a `Reply` rather than a parsed body. */
export const isReply = (v: unknown): v is Reply =>
  typeof v === 'object' && v !== null && typeof (v as Reply).status === 'number' && 'status' in v;

/** Writes a reply: strings as they are, anything else as JSON, with a content length. */
export function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...(reply.headers ?? {}) };
  let text = '';
  if (typeof reply.body === 'string') {
    text = reply.body;
    headers['content-type'] ??= 'application/json';
  } else if (reply.body !== undefined) {
    text = JSON.stringify(reply.body);
    headers['content-type'] ??= 'application/json';
  }
  headers['content-length'] = String(Buffer.byteLength(text));
  res.writeHead(reply.status, headers);
  res.end(text);
}

export const acceptsJson = (req: IncomingMessage): boolean => {
  const accept = req.headers.accept ?? '';
  return accept.includes('application/json') || accept.includes('*/*');
};

/** Route pattern of a request for the counters and the log, e.g. `POST /api/v1/cckm/aws/keys/{id}/enable`. */
export function routeOf(method: string, path: string): string {
  const m = /^\/api\/v1\/cckm\/aws\/keys\/[^/]+(\/[^/]+)?$/.exec(path);
  if (m) return `${method} /api/v1/cckm/aws/keys/{id}${m[1] ?? ''}`;
  const job = /^\/api\/v1\/cckm\/aws\/synchronization-jobs\/[^/]+(\/[^/]+)?$/.exec(path);
  if (job) return `${method} /api/v1/cckm/aws/synchronization-jobs/{id}${job[1] ?? ''}`;
  return `${method} ${path}`;
}

/** `*` matches any run of characters; everything else literally. */
export function globMatch(glob: string, value: string): boolean {
  const re = new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return re.test(value);
}

/** A timer the simulator cancels on `close()`. */
export const sleep = (ms: number, timers: Set<NodeJS.Timeout>): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(() => {
      timers.delete(t);
      resolve();
    }, ms);
    timers.add(t);
  });
