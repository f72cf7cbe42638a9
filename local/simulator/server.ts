import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { defaultErrorBody, type FaultRuleState, type FaultSpec, Faults } from './faults.ts';
import { newClaims, signJwt, verifyJwt } from './jwt.ts';
import { defaultSeed, type Seed, type SeedUser } from './seed.ts';
import { KeyStore, KmsError, type SeedKey, type SimKeyRecord } from './store.ts';
import { generateSimulatorTls, type SimulatorTls } from './tls.ts';

/** Options of `startSimulator`. */
export interface SimulatorOptions {
  /** Port on 127.0.0.1; default 0 (a free port). */
  readonly port?: number;
  /** Inventory and users; default `defaultSeed()` (random credentials, `SEED_KEYS`). */
  readonly seed?: Seed;
  /** JWT lifetime (`duration`, `exp - iat`); default 300 s as on CipherTrust Manager. */
  readonly tokenLifetimeSec?: number;
  /** Delay before an async `refresh` updates CCKM's copy; default 50 ms. */
  readonly refreshDelayMs?: number;
  /** When set, CCKM's copy catches up with AWS this long after a change made outside CCKM. */
  readonly autoSyncMs?: number;
  /** Reject requests without `Accept: application/json` (400), as CM does on /crypto; default false. */
  readonly requireAcceptJson?: boolean;
  /** Which `alias` filter values match `alias/<name>`: both forms (default), only `alias/…`, only bare. */
  readonly aliasFilter?: 'both' | 'prefixed' | 'bare';
  /** Reuse TLS material (saves ~100 ms per start in tests); default: generated at start. */
  readonly tls?: SimulatorTls;
  /** Print one line per request to stderr (never a token or a password). */
  readonly verbose?: boolean;
}

/** Credentials of the first seeded user, to write into the Secrets Manager stand-in. */
export interface SimulatorCredentials {
  readonly username: string;
  readonly password: string;
  readonly refreshToken: string;
}

/** One request as the simulator saw it. Never holds a token, password or body. */
export interface SimRequestLogEntry {
  readonly seq: number;
  readonly at: string;
  readonly method: string;
  readonly path: string;
  /** Raw query string without `?` (CCKM filters only; never credentials). */
  readonly query: string;
  /** Route pattern, e.g. `POST /api/v1/cckm/aws/keys/{id}/cancel-deletion`. */
  readonly route: string;
  /** HTTP status, or 0 when the connection was reset. */
  readonly status: number;
  /** Whether an Authorization header was present, and of which scheme. */
  readonly authorization: 'bearer' | 'other' | 'none';
  readonly acceptJson: boolean;
  /** `grant_type` of a token request. */
  readonly grantType?: string;
  /** The fault that took over the request: `status`, `reset`, `delay`. */
  readonly fault?: string;
  readonly ms: number;
}

/** Counters for assertions; `reset()` zeroes them. */
export interface SimCounters {
  /** TCP connections accepted (a new connection per retry shows keep-alive is not reused). */
  connections: number;
  requests: number;
  /** Successful token grants by grant type. */
  tokenGrants: { password: number; refresh_token: number };
  /** Token requests refused (401/400). */
  tokenRejections: number;
  /** Refresh tokens minted (every password grant mints one, as real CM does). */
  refreshTokensMinted: number;
  /** Requests per route pattern. */
  byRoute: Record<string, number>;
  /** Requests a fault rule took over. */
  faulted: number;
}

/** A running CipherTrust Manager simulator. */
export interface Simulator {
  /** `https://127.0.0.1:<port>`: set as `CCKM_URL`. */
  readonly url: string;
  readonly port: number;
  /** PEM of the CA that signed the server certificate: put it in the secret's `ca_cert`. */
  readonly caPem: string;
  readonly credentials: SimulatorCredentials;
  /** Inventory: AWS truth and CCKM records, with test hooks (`scheduleDeletionInAws`, ...). */
  readonly keys: KeyStore;
  readonly faults: Faults;
  /** Request log since the last `reset()` (a copy). */
  readonly requests: readonly SimRequestLogEntry[];
  /** Requests whose path matches a glob (`*` = any run of characters), optionally one method. */
  requestsTo(pathGlob: string, method?: string): SimRequestLogEntry[];
  readonly counters: SimCounters;
  /** Users: change a password or add / revoke refresh tokens (credential rotation). */
  readonly users: SimUsers;
  /** Moves the simulator's clock (token expiry, dates) forward. */
  advanceClock(seconds: number): void;
  /** Clears faults, log and counters, restores seeded users and, unless `keepKeys`, the inventory. */
  reset(options?: { keepKeys?: boolean }): void;
  close(): Promise<void>;
}

/** User administration of a running simulator. */
export interface SimUsers {
  setPassword(username: string, password: string): void;
  /** Issues a new refresh token for the user (as a rotation would) and returns it. */
  issueRefreshToken(username: string): string;
  revokeRefreshToken(token: string): void;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const cmError = (status: number, code: number, codeDesc: string, message?: string): Reply => ({
  status,
  body: message === undefined ? { code, codeDesc } : { code, codeDesc, message },
});

const notFound = (): Reply => cmError(404, 16, 'NCERRResourceNotFound: Resource not found');
const badParam = (what: string): Reply => cmError(400, 15, `NCERRInvalidParamValue: ${what}`);
const BOOL_FILTERS = ['multi_region', 'enabled', 'gone'] as const;

function routeOf(method: string, path: string): string {
  const m = /^\/api\/v1\/cckm\/aws\/keys\/[^/]+(\/[^/]+)?$/.exec(path);
  if (m) return `${method} /api/v1/cckm/aws/keys/{id}${m[1] ?? ''}`;
  return `${method} ${path}`;
}

function globMatch(glob: string, value: string): boolean {
  const re = new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return re.test(value);
}

const sleep = (ms: number, timers: Set<NodeJS.Timeout>): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(() => {
      timers.delete(t);
      resolve();
    }, ms);
    timers.add(t);
  });

/**
 * Starts a CipherTrust Manager simulator on `https://127.0.0.1:<port>`, faithful to
 * `reference/cckm-api.md`, with fault injection, a request log and counters for tests.
 *
 * Routes: `POST /api/v1/auth/tokens` (password and refresh_token grants); with a bearer token
 * `GET /api/v1/cckm/aws/keys` (filters `id`, `keyid`, `arn`, `alias`, `region`, `keystate`, `kms`,
 * `kms_id`, `multi_region`, `multi_region_key_type`, `enabled`, `gone`, all repeatable; `skip`,
 * `limit` default 10, `-1` for all), `GET …/keys/{id}`, `POST …/keys/{id}/cancel-deletion |
 * enable | disable | schedule-deletion | refresh`. A control API under `/__sim/` (not `/api/v1`)
 * drives the same fault table over HTTP; see `local/sim-ctl.ts`.
 *
 * @example
 * const sim = await startSimulator({ tokenLifetimeSec: 300 });
 * sim.faults.failNext(2, 503, { method: 'POST', path: '/api/v1/cckm/aws/keys/*\/cancel-deletion' });
 * // ... run the code under test against sim.url with sim.caPem pinned ...
 * expect(sim.requestsTo('/api/v1/cckm/aws/keys/*\/cancel-deletion')).toHaveLength(3);
 * sim.faults.assertAllConsumed();
 * await sim.close();
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const tls = options.tls ?? (await generateSimulatorTls());
  const seed = options.seed ?? defaultSeed();
  const firstUser = seed.users[0];
  if (!firstUser || firstUser.refreshTokens.length === 0) {
    throw new Error('the seed needs at least one user with a refresh token');
  }
  const lifetimeSec = options.tokenLifetimeSec ?? 300;
  const refreshDelayMs = options.refreshDelayMs ?? 50;
  const aliasFilter = options.aliasFilter ?? 'both';
  const jwtSecret = randomBytes(32);
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();

  let clockOffsetMs = 0;
  const now = (): number => Date.now() + clockOffsetMs;
  const nowSec = (): number => Math.floor(now() / 1000);

  // Token generation: tokens minted before the last expire-all carry an older `gen`.
  let generation = 0;
  let expiredAllAtSec = 0;
  const passwords = new Map<string, string>();
  const refreshTokens = new Map<string, { username: string; id: string }>();
  const clientIds = new Map<string, string>();

  const store = new KeyStore(now, options.autoSyncMs);
  const faults = new Faults(() => {
    generation += 1;
    expiredAllAtSec = nowSec();
  });

  let log: SimRequestLogEntry[] = [];
  let seq = 0;
  // A request still in flight (a slow-header fault) when `reset()` runs must not land in the new log.
  let epoch = 0;
  const freshCounters = (): SimCounters => ({
    connections: 0,
    requests: 0,
    tokenGrants: { password: 0, refresh_token: 0 },
    tokenRejections: 0,
    refreshTokensMinted: 0,
    byRoute: {},
    faulted: 0,
  });
  let counters = freshCounters();

  const loadSeed = (users: boolean): void => {
    store.clear();
    for (const k of seed.keys) store.add(k);
    if (users) {
      passwords.clear();
      refreshTokens.clear();
      for (const u of seed.users) loadUser(u);
    }
  };
  const loadUser = (u: SeedUser): void => {
    passwords.set(u.username, u.password);
    clientIds.set(u.username, randomUUID());
    for (const t of u.refreshTokens) refreshTokens.set(t, { username: u.username, id: randomUUID() });
  };
  loadSeed(true);

  const mintRefreshToken = (username: string): { token: string; id: string } => {
    const token = `rt-${randomBytes(24).toString('base64url')}`;
    const id = randomUUID();
    refreshTokens.set(token, { username, id });
    counters.refreshTokensMinted += 1;
    return { token, id };
  };

  const tokenResponse = (username: string, refresh?: { token: string; id: string }): Reply => {
    const jwt = signJwt(newClaims(`local|${username}`, nowSec(), lifetimeSec, generation), jwtSecret);
    const body: Record<string, unknown> = {
      jwt,
      duration: lifetimeSec,
      token_type: 'Bearer',
      client_id: clientIds.get(username) ?? randomUUID(),
    };
    if (refresh) {
      body.refresh_token = refresh.token;
      body.refresh_token_id = refresh.id;
    }
    return { status: 200, body };
  };

  const unauthorizedLogin = (): Reply => {
    counters.tokenRejections += 1;
    return cmError(401, 5, 'NCERRUnauthorizedAccess', 'Wrong username or password.');
  };

  const handleToken = (body: Record<string, unknown>): Reply => {
    const grant = body.grant_type;
    if (grant === 'password') {
      const username = body.username;
      const password = body.password;
      if (
        typeof username !== 'string' ||
        typeof password !== 'string' ||
        passwords.get(username) !== password
      ) {
        return unauthorizedLogin();
      }
      counters.tokenGrants.password += 1;
      // Real CM mints a new refresh token at every password grant; the count makes that visible.
      return tokenResponse(username, mintRefreshToken(username));
    }
    if (grant === 'refresh_token') {
      const token = body.refresh_token;
      const entry = typeof token === 'string' ? refreshTokens.get(token) : undefined;
      if (!entry || typeof token !== 'string') return unauthorizedLogin();
      counters.tokenGrants.refresh_token += 1;
      if (body.renew_refresh_token === true) {
        refreshTokens.delete(token);
        return tokenResponse(entry.username, mintRefreshToken(entry.username));
      }
      return tokenResponse(entry.username);
    }
    return unauthorizedLogin();
  };

  const checkBearer = (req: IncomingMessage): Reply | undefined => {
    const header = req.headers.authorization;
    if (!header) return cmError(401, 5, 'NCERRUnauthorizedAccess: Bearer token missing');
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m)
      return cmError(401, 5, 'NCERRUnauthorizedAccess: Bearer token malformed: expected a Bearer token');
    const check = verifyJwt(m[1]!, jwtSecret);
    if (!check.ok) {
      return cmError(
        401,
        5,
        `NCERRUnauthorizedAccess: Bearer token malformed: ${check.reason === 'signature' ? 'signature is invalid' : 'token contains an invalid number of segments'}`,
      );
    }
    const t = nowSec();
    const forced = check.claims.gen < generation;
    if (forced || t >= check.claims.exp) {
      const expiredAt = forced ? Math.min(expiredAllAtSec, check.claims.exp) : check.claims.exp;
      return cmError(
        401,
        5,
        `NCERRUnauthorizedAccess: Bearer token malformed: Token is expired by ${Math.max(0, t - expiredAt)}s`,
      );
    }
    return undefined;
  };

  const kmsFailure = (e: KmsError): Reply => {
    if (e.exception === 'NotFoundException') {
      return cmError(404, 16, 'NCERRResourceNotFound: Resource not found', `${e.exception}: ${e.message}`);
    }
    return cmError(400, 10, 'NCERRBadRequest', `${e.exception}: ${e.message}`);
  };

  const listKeys = (q: URLSearchParams): Reply => {
    const limitRaw = q.get('limit');
    const skipRaw = q.get('skip');
    const limit = limitRaw === null || limitRaw === '' ? 10 : Number(limitRaw);
    const skip = skipRaw === null || skipRaw === '' ? 0 : Number(skipRaw);
    if (!Number.isInteger(limit) || limit < -1) return badParam('limit must be an integer, -1 for all');
    if (!Number.isInteger(skip) || skip < 0) return badParam('skip must be a non-negative integer');
    for (const b of BOOL_FILTERS) {
      for (const v of q.getAll(b)) {
        if (v !== 'true' && v !== 'false') return badParam(`${b} must be true or false`);
      }
    }
    const any = (name: string, pick: (r: SimKeyRecord) => readonly string[]) => {
      const wanted = q.getAll(name);
      return (r: SimKeyRecord) => wanted.length === 0 || pick(r).some((v) => wanted.includes(v));
    };
    const aliasValues = (r: SimKeyRecord): string[] =>
      r.aws_param.Alias.flatMap((a) => {
        const bare = a.replace(/^alias\//, '');
        if (aliasFilter === 'prefixed') return [a];
        if (aliasFilter === 'bare') return [bare];
        return [a, bare];
      });
    const tests = [
      any('id', (r) => [r.id]),
      any('keyid', (r) => [r.aws_param.KeyID]),
      any('arn', (r) => [r.aws_param.Arn]),
      any('alias', aliasValues),
      any('region', (r) => [r.region]),
      any('keystate', (r) => [r.aws_param.KeyState]),
      any('kms', (r) => [r.kms]),
      any('kms_id', (r) => [r.kms_id]),
      any('multi_region', (r) => [String(r.aws_param.MultiRegion)]),
      any('multi_region_key_type', (r) =>
        r.aws_param.MultiRegionConfiguration ? [r.aws_param.MultiRegionConfiguration.MultiRegionKeyType] : [],
      ),
      any('enabled', (r) => [String(r.aws_param.Enabled)]),
      any('gone', (r) => [String(r.gone)]),
    ];
    const matched = store.list().filter((r) => tests.every((t) => t(r)));
    const page = limit === -1 ? matched.slice(skip) : matched.slice(skip, skip + limit);
    return { status: 200, body: { skip, limit, total: matched.length, resources: page } };
  };

  const keyAction = (id: string, action: string, body: Record<string, unknown>): Reply => {
    if (!store.has(id)) return notFound();
    try {
      switch (action) {
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
          void sleep(refreshDelayMs, timers).then(() => store.sync(id));
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

  const api = (req: IncomingMessage, url: URL, rawBody: string): Reply => {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    let body: Record<string, unknown> = {};
    if (rawBody.trim() !== '') {
      try {
        const parsed: unknown = JSON.parse(rawBody);
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
          return cmError(400, 10, 'NCERRBadRequest: request body must be a JSON object');
        }
        body = parsed as Record<string, unknown>;
      } catch {
        return cmError(400, 10, 'NCERRBadRequest: invalid JSON in request body');
      }
    }
    if (path === '/api/v1/auth/tokens' || path === '/api/v1/auth/tokens/') {
      if (method !== 'POST') return cmError(405, 10, 'NCERRBadRequest: method not allowed');
      return handleToken(body);
    }
    const denied = checkBearer(req);
    if (denied) return denied;
    if (options.requireAcceptJson && !acceptsJson(req)) {
      return cmError(400, 10, 'NCERRBadRequest: Accept header is invalid.');
    }
    if (path === '/api/v1/cckm/aws/keys') {
      if (method !== 'GET') return cmError(405, 10, 'NCERRBadRequest: method not allowed');
      return listKeys(url.searchParams);
    }
    const one = /^\/api\/v1\/cckm\/aws\/keys\/([^/]+)$/.exec(path);
    if (one) {
      if (method !== 'GET') return cmError(405, 10, 'NCERRBadRequest: method not allowed');
      const key = store.get(decodeURIComponent(one[1]!));
      return key ? { status: 200, body: key } : notFound();
    }
    const action = /^\/api\/v1\/cckm\/aws\/keys\/([^/]+)\/([a-z-]+)$/.exec(path);
    if (action) {
      if (method !== 'POST') return cmError(405, 10, 'NCERRBadRequest: method not allowed');
      return keyAction(decodeURIComponent(action[1]!), action[2]!, body);
    }
    return notFound();
  };

  const acceptsJson = (req: IncomingMessage): boolean => {
    const accept = req.headers.accept ?? '';
    return accept.includes('application/json') || accept.includes('*/*');
  };

  const send = (res: ServerResponse, reply: Reply): void => {
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
  };

  const faultReply = (spec: FaultSpec): Reply => {
    const status = spec.status ?? 500;
    const headers: Record<string, string> = { ...(spec.headers ?? {}) };
    if (spec.retryAfter !== undefined) headers['retry-after'] = String(spec.retryAfter);
    if (spec.contentType) headers['content-type'] = spec.contentType;
    const body = spec.body ?? (status >= 400 ? defaultErrorBody(status) : {});
    return { status, headers, body };
  };

  let closing = false;

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = now();
    const startedEpoch = epoch;
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');

    if (url.pathname.startsWith('/__sim/')) {
      send(res, control(method, url, rawBody));
      return;
    }

    counters.requests += 1;
    const route = routeOf(method, url.pathname);
    counters.byRoute[route] = (counters.byRoute[route] ?? 0) + 1;
    const auth = req.headers.authorization;
    let grantType: string | undefined;
    if (url.pathname.startsWith('/api/v1/auth/tokens')) {
      try {
        const g = (JSON.parse(rawBody) as { grant_type?: unknown }).grant_type;
        grantType = typeof g === 'string' ? g.slice(0, 40) : undefined;
      } catch {
        grantType = undefined;
      }
    }
    const entry = {
      seq: ++seq,
      at: new Date(started).toISOString(),
      method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      route,
      authorization: !auth ? 'none' : /^Bearer\s/i.test(auth) ? 'bearer' : 'other',
      acceptJson: acceptsJson(req),
      ...(grantType ? { grantType } : {}),
    } as const;
    const record = (status: number, fault?: string): void => {
      if (startedEpoch !== epoch) return;
      const e: SimRequestLogEntry = { ...entry, status, ...(fault ? { fault } : {}), ms: now() - started };
      log.push(e);
      if (options.verbose) {
        process.stderr.write(
          `[cm-sim] ${method} ${url.pathname}${url.search} -> ${status === 0 ? 'RESET' : status}${fault ? ` (fault: ${fault})` : ''}${entry.acceptJson ? '' : ' (no Accept: application/json)'}\n`,
        );
      }
    };

    const spec = faults.take(method, url.pathname, rawBody);
    if (spec) {
      counters.faulted += 1;
      if (spec.delayMs) {
        await sleep(spec.delayMs, timers);
        if (closing || req.socket.destroyed) {
          record(0, 'delay');
          return;
        }
      }
      if (spec.reset) {
        record(0, 'reset');
        req.socket.destroy();
        return;
      }
      if (spec.status !== undefined) {
        const reply = faultReply(spec);
        send(res, reply);
        record(reply.status, 'status');
        return;
      }
    }
    let reply: Reply;
    try {
      reply = api(req, url, rawBody);
    } catch (e) {
      reply = cmError(500, 14, 'NCERRInternalServerError: unexpected error', String(e));
    }
    send(res, reply);
    record(reply.status, spec ? 'delay' : undefined);
  };

  const control = (method: string, url: URL, rawBody: string): Reply => {
    let body: Record<string, unknown> = {};
    try {
      body = rawBody.trim() ? (JSON.parse(rawBody) as Record<string, unknown>) : {};
    } catch {
      return { status: 400, body: { error: 'invalid JSON' } };
    }
    const p = url.pathname;
    try {
      if (method === 'GET' && p === '/__sim/state') {
        return {
          status: 200,
          body: { url: sim.url, counters, requests: log, faults: faults.list().map(serializableRule) },
        };
      }
      if (method === 'GET' && p === '/__sim/ca.pem') {
        return { status: 200, body: tls.ca.cert, headers: { 'content-type': 'application/x-pem-file' } };
      }
      if (method === 'GET' && p === '/__sim/keys') {
        return {
          status: 200,
          body: store.list().map((r) => ({ ...r, aws_truth: store.aws(r.id) })),
        };
      }
      if (method === 'POST' && p === '/__sim/faults') {
        return { status: 201, body: { id: faults.add(body as FaultSpec) } };
      }
      if (method === 'DELETE' && p === '/__sim/faults') {
        faults.clear();
        return { status: 204 };
      }
      if (method === 'POST' && p === '/__sim/expire-tokens') {
        faults.expireAllTokens();
        return { status: 204 };
      }
      if (method === 'POST' && p === '/__sim/reset') {
        sim.reset({ keepKeys: body.keepKeys === true });
        return { status: 204 };
      }
      if (method === 'POST' && p === '/__sim/clock') {
        sim.advanceClock(Number(body.advanceSec ?? 0));
        return { status: 204 };
      }
      if (method === 'POST' && p === '/__sim/keys/generate-pending') {
        const n = Number(body.count ?? 0);
        if (!Number.isInteger(n) || n < 1 || n > 100_000)
          return { status: 400, body: { error: 'count 1..100000' } };
        for (let i = 0; i < n; i++) store.add(generatedKey());
        return { status: 201, body: { added: n, total: store.size } };
      }
      const k = /^\/__sim\/keys\/([^/]+)\/(schedule-deletion-in-aws|aws-state|sync)$/.exec(p);
      if (method === 'POST' && k) {
        const given = decodeURIComponent(k[1]!);
        // Seeded handles (`payments`) work as well as CCKM ids, for the command line.
        const id = store.has(given) || given.startsWith('arn:') ? given : store.byName(given).id;
        if (k[2] === 'schedule-deletion-in-aws') {
          return { status: 200, body: store.scheduleDeletionInAws(id, Number(body.days ?? 30)) };
        }
        if (k[2] === 'aws-state') {
          store.setAwsState(id, body as Parameters<KeyStore['setAwsState']>[1]);
          return { status: 200, body: store.aws(id) };
        }
        store.sync(id);
        return { status: 200, body: store.get(id) };
      }
    } catch (e) {
      return { status: 400, body: { error: e instanceof Error ? e.message : String(e) } };
    }
    return { status: 404, body: { error: `no control route ${method} ${p}` } };
  };

  let generated = 0;
  const generatedKey = (): SeedKey => {
    generated += 1;
    const n = generated;
    return {
      name: `gen-${n}`,
      kms: 'kms-bulk',
      account: '210987654321',
      region: ['us-east-1', 'us-west-2', 'eu-west-1'][n % 3]!,
      keyId: randomUUID(),
      state: 'PendingDeletion' as const,
      pendingWindowInDays: 7 + (n % 24),
      aliases: [`alias/gen-${n}`],
      tags: { env: 'load' },
    };
  };

  const server: Server = createServer({ key: tls.server.key, cert: tls.server.cert }, (req, res) => {
    onRequest(req, res).catch((e: unknown) => {
      if (!res.headersSent)
        send(res, cmError(500, 14, 'NCERRInternalServerError: unexpected error', String(e)));
    });
  });
  server.on('connection', (socket: Socket) => {
    counters.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A client that resets mid-handshake is part of the tests, not a simulator failure.
  server.on('tlsClientError', () => undefined);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const users: SimUsers = {
    setPassword(username, password) {
      if (!passwords.has(username)) throw new Error(`no user ${username}`);
      passwords.set(username, password);
    },
    issueRefreshToken(username) {
      if (!passwords.has(username)) throw new Error(`no user ${username}`);
      return mintRefreshToken(username).token;
    },
    revokeRefreshToken(token) {
      refreshTokens.delete(token);
    },
  };

  const sim: Simulator = {
    url: `https://127.0.0.1:${port}`,
    port,
    caPem: tls.ca.cert,
    credentials: {
      username: firstUser.username,
      password: firstUser.password,
      refreshToken: firstUser.refreshTokens[0]!,
    },
    keys: store,
    faults,
    get requests() {
      return [...log];
    },
    requestsTo(pathGlob, method) {
      return log.filter((e) => globMatch(pathGlob, e.path) && (!method || e.method === method.toUpperCase()));
    },
    get counters() {
      return counters;
    },
    users,
    advanceClock(seconds) {
      clockOffsetMs += seconds * 1000;
    },
    reset(opts = {}) {
      faults.clear();
      log = [];
      seq = 0;
      epoch += 1;
      counters = freshCounters();
      if (!opts.keepKeys) loadSeed(false);
      for (const u of seed.users) {
        passwords.set(u.username, u.password);
      }
      refreshTokens.clear();
      for (const u of seed.users) loadUser(u);
    },
    async close() {
      closing = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
  return sim;
}

function serializableRule(r: FaultRuleState): Record<string, unknown> {
  return {
    id: r.id,
    hits: r.hits,
    remaining: Number.isFinite(r.remaining) ? r.remaining : -1,
    spec: { ...r.spec, path: String(r.spec.path ?? '*') },
  };
}
