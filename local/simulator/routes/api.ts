import type { IncomingMessage } from 'node:http';
import {
  acceptsJson,
  cmError,
  isReply,
  methodNotAllowed,
  notFound,
  parseJsonObject,
  type Reply,
} from '../http.ts';
import type { AuthRoutes } from './auth.ts';
import type { SimContext } from './context.ts';
import type { KeyRoutes } from './keys.ts';
import type { SyncJobRoutes } from './sync-jobs.ts';

const JOBS = '/api/v1/cckm/aws/synchronization-jobs';

/** Dispatches a CipherTrust Manager API request (`/api/v1/...`) to its route module. */
export type ApiHandler = (
  req: IncomingMessage,
  url: URL,
  rawBody: string,
  opts?: { ignoreKeystate?: boolean },
) => Reply;

export function createApi(
  ctx: SimContext,
  auth: AuthRoutes,
  keys: KeyRoutes,
  jobs: SyncJobRoutes,
): ApiHandler {
  return (req, url, rawBody, opts = {}) => {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const body = parseJsonObject(rawBody);
    if (isReply(body)) return body;
    if (path === '/api/v1/auth/tokens' || path === '/api/v1/auth/tokens/') {
      if (method !== 'POST') return methodNotAllowed();
      return auth.handleToken(body);
    }
    const denied = auth.checkBearer(req);
    if (denied) return denied;
    if (ctx.options.requireAcceptJson && !acceptsJson(req)) {
      return cmError(400, 10, 'NCERRBadRequest: Accept header is invalid.');
    }
    if (path === '/api/v1/cckm/aws/keys') {
      if (method !== 'GET') return methodNotAllowed();
      return keys.list(url.searchParams, opts);
    }
    const one = /^\/api\/v1\/cckm\/aws\/keys\/([^/]+)$/.exec(path);
    if (one) {
      if (method !== 'GET') return methodNotAllowed();
      return keys.getOne(decodeURIComponent(one[1]!));
    }
    const action = /^\/api\/v1\/cckm\/aws\/keys\/([^/]+)\/([a-z-]+)$/.exec(path);
    if (action) {
      if (method !== 'POST') return methodNotAllowed();
      return keys.action(decodeURIComponent(action[1]!), action[2]!, body);
    }
    if (path === JOBS) {
      if (method === 'POST') return jobs.start(body);
      if (method === 'GET') return jobs.list(url.searchParams);
      return methodNotAllowed();
    }
    const job = /^\/api\/v1\/cckm\/aws\/synchronization-jobs\/([^/]+)(\/cancel)?$/.exec(path);
    if (job) {
      const id = decodeURIComponent(job[1]!);
      if (job[2]) return method === 'POST' ? jobs.cancel(id) : methodNotAllowed();
      return method === 'GET' ? jobs.get(id) : methodNotAllowed();
    }
    return notFound();
  };
}
