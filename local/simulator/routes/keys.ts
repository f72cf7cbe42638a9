import { badParam, cmError, isReply, notFound, parsePaging, type Reply, sleep } from '../http.ts';
import { KmsError, type SimKeyPeek } from '../store.ts';
import type { SimContext } from './context.ts';

/** CCKM AWS key routes: `GET /api/v1/cckm/aws/keys`, `GET …/keys/{id}`, `POST …/keys/{id}/<action>`. */
export interface KeyRoutes {
  /** The listing; `ignoreKeystate` answers as a CipherTrust Manager that ignores that filter. */
  list(q: URLSearchParams, opts?: { ignoreKeystate?: boolean }): Reply;
  getOne(id: string): Reply;
  action(id: string, action: string, body: Record<string, unknown>): Reply;
}

const BOOL_FILTERS = ['multi_region', 'enabled', 'gone'] as const;

/** A KMS failure as CCKM passes it through. */
export const kmsFailure = (e: KmsError): Reply => {
  if (e.exception === 'NotFoundException') {
    return cmError(404, 16, 'NCERRResourceNotFound: Resource not found', `${e.exception}: ${e.message}`);
  }
  return cmError(400, 10, 'NCERRBadRequest', `${e.exception}: ${e.message}`);
};

export function createKeyRoutes(ctx: SimContext): KeyRoutes {
  const { store } = ctx;
  const aliasFilter = ctx.options.aliasFilter ?? 'both';
  const refreshDelayMs = ctx.options.refreshDelayMs ?? 50;

  const aliasValues = (r: SimKeyPeek): string[] =>
    r.aws_param.Alias.flatMap((a) => {
      const bare = a.replace(/^alias\//, '');
      if (aliasFilter === 'prefixed') return [a];
      if (aliasFilter === 'bare') return [bare];
      return [a, bare];
    });

  const list = (q: URLSearchParams, opts: { ignoreKeystate?: boolean } = {}): Reply => {
    const paging = parsePaging(q);
    if (isReply(paging)) return paging;
    const { limit, skip } = paging;
    for (const b of BOOL_FILTERS) {
      for (const v of q.getAll(b)) {
        if (v !== 'true' && v !== 'false') return badParam(`${b} must be true or false`);
      }
    }
    // Every filter is repeatable (`?region=a&region=b`): a record matches when any value does.
    const any = (name: string, pick: (r: SimKeyPeek) => readonly string[]) => {
      const wanted = q.getAll(name);
      return (r: SimKeyPeek) => wanted.length === 0 || pick(r).some((v) => wanted.includes(v));
    };
    const tests = [
      any('id', (r) => [r.id]),
      any('keyid', (r) => [r.aws_param.KeyID]),
      any('arn', (r) => [r.aws_param.Arn]),
      any('alias', aliasValues),
      any('region', (r) => [r.region]),
      ...(opts.ignoreKeystate ? [] : [any('keystate', (r) => [r.aws_param.KeyState])]),
      any('kms', (r) => [r.kms]),
      any('kms_id', (r) => [r.kms_id]),
      any('multi_region', (r) => [String(r.aws_param.MultiRegion)]),
      any('multi_region_key_type', (r) =>
        r.aws_param.MultiRegionConfiguration ? [r.aws_param.MultiRegionConfiguration.MultiRegionKeyType] : [],
      ),
      any('enabled', (r) => [String(r.aws_param.Enabled)]),
      any('gone', (r) => [String(r.gone)]),
    ];
    const { total, page } = store.select((r) => tests.every((t) => t(r)), skip, limit);
    return { status: 200, body: { skip, limit, total, resources: page } };
  };

  const getOne = (id: string): Reply => {
    const key = store.get(id);
    return key ? { status: 200, body: key } : notFound();
  };

  const action = (id: string, name: string, body: Record<string, unknown>): Reply => {
    if (!store.has(id)) return notFound();
    try {
      switch (name) {
        case 'cancel-deletion':
          return { status: 200, body: store.cancelDeletion(id) };
        case 'enable':
          return { status: 200, body: store.setEnabled(id, true) };
        case 'disable':
          return { status: 200, body: store.setEnabled(id, false) };
        case 'schedule-deletion': {
          const days = body.days;
          if (typeof days !== 'number' || !Number.isInteger(days) || days < 7 || days > 30) {
            return badParam('days must be an integer from 7 to 30');
          }
          return { status: 200, body: store.scheduleDeletion(id, days) };
        }
        case 'refresh': {
          // Asynchronous on real CCKM: the copy changes shortly after the answer.
          void sleep(refreshDelayMs, ctx.timers).then(() => store.sync(id));
          return { status: 200, body: { message: `AWS key '${id}' will be refreshed and persisted` } };
        }
        default:
          return notFound();
      }
    } catch (e) {
      if (e instanceof KmsError) return kmsFailure(e);
      throw e;
    }
  };

  return { list, getOne, action };
}
