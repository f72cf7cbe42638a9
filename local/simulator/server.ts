import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { listenOnLoopback } from '../listen.ts';
import { type FaultedRequest, faultReply, kmsRefusal, tamperReply } from './fault-answers.ts';
import { type FaultSpec, Faults } from './faults.ts';
import { acceptsJson, cmError, globMatch, type Reply, routeOf, send, sleep } from './http.ts';
import { createApi } from './routes/api.ts';
import { createAuthRoutes } from './routes/auth.ts';
import type { SimContext } from './routes/context.ts';
import { createControl } from './routes/control.ts';
import { createKeyRoutes } from './routes/keys.ts';
import { createSyncJobRoutes } from './routes/sync-jobs.ts';
import { defaultSeed } from './seed.ts';
import { KeyStore } from './store.ts';
import { generateSimulatorTls } from './tls.ts';
import type { SimCounters, SimRequestLogEntry, Simulator, SimulatorOptions } from './types.ts';

const freshCounters = (): SimCounters => ({
  connections: 0,
  requests: 0,
  tokenGrants: { password: 0, refresh_token: 0 },
  tokenRejections: 0,
  refreshTokensMinted: 0,
  byRoute: {},
  faulted: 0,
  tokenRequests: {},
  syncJobsStarted: 0,
});

/**
 * Starts a CipherTrust Manager simulator on `https://127.0.0.1:<port>`, faithful to
 * `reference/cckm-api.md`, with fault injection, a request log and counters for tests.
 *
 * Routes: `POST /api/v1/auth/tokens` (password and refresh_token grants); with a bearer token
 * `GET /api/v1/cckm/aws/keys` (filters `id`, `keyid`, `arn`, `alias`, `region`, `keystate`, `kms`,
 * `kms_id`, `multi_region`, `multi_region_key_type`, `enabled`, `gone`, all repeatable; `skip`,
 * `limit` default 10, `-1` for all), `GET …/keys/{id}`, `POST …/keys/{id}/cancel-deletion |
 * enable | disable | schedule-deletion | refresh`, `POST|GET /api/v1/cckm/aws/synchronization-jobs`
 * (`?status=in_progress`), `GET …/synchronization-jobs/{id}`, `POST …/{id}/cancel`. A control API
 * under `/__sim/` (not `/api/v1`) drives the same fault table over HTTP; see `local/sim-ctl.ts`.
 * The route modules are in `routes/`; fault answers in `fault-answers.ts`.
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
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let clockOffsetMs = 0;
  let counters = freshCounters();
  const store = new KeyStore(() => Date.now() + clockOffsetMs, options.autoSyncMs);
  const faults = new Faults(() => auth.expireAll());
  const ctx: SimContext = {
    options,
    store,
    faults,
    timers,
    now: () => Date.now() + clockOffsetMs,
    counters: () => counters,
  };
  const auth = createAuthRoutes(ctx, seed.users, options.tokenLifetimeSec ?? 300);
  const jobs = createSyncJobRoutes(ctx);
  const api = createApi(ctx, auth, createKeyRoutes(ctx), jobs);
  const loadKeys = (): void => {
    store.clear();
    for (const k of seed.keys) store.add(k);
  };
  loadKeys();

  let log: SimRequestLogEntry[] = [];
  let seq = 0;
  // A request still in flight (a slow-header fault) when `reset()` runs must not land in the new log.
  let epoch = 0;
  let closing = false;
  const control = createControl(ctx, { sim: () => sim, caPem: tls.ca.cert, log: () => log, jobs });

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = ctx.now();
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
    const authorization = req.headers.authorization;
    const grantType = url.pathname.startsWith('/api/v1/auth/tokens')
      ? auth.observeTokenRequest(rawBody)
      : undefined;
    const entry = {
      seq: ++seq,
      at: new Date(started).toISOString(),
      method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      route,
      authorization: !authorization ? 'none' : /^Bearer\s/i.test(authorization) ? 'bearer' : 'other',
      acceptJson: acceptsJson(req),
      ...(grantType ? { grantType } : {}),
    } as const;
    const record = (status: number, fault?: string): void => {
      if (startedEpoch !== epoch) return;
      log.push({ ...entry, status, ...(fault ? { fault } : {}), ms: ctx.now() - started });
      if (options.verbose) {
        process.stderr.write(
          `[cm-sim] ${method} ${url.pathname}${url.search} -> ${status === 0 ? 'RESET' : status}${fault ? ` (fault: ${fault})` : ''}${entry.acceptJson ? '' : ' (no Accept: application/json)'}\n`,
        );
      }
    };
    const asked: FaultedRequest = { method, path: url.pathname, rawBody, authorization };
    const answer = (reply: Reply, fault?: string): void => {
      send(res, reply);
      record(reply.status, fault);
    };
    const drop = (fault: string): void => {
      record(0, fault);
      req.socket.destroy();
    };

    const spec: FaultSpec | undefined = faults.take(method, url.pathname, rawBody);
    if (spec) {
      counters.faulted += 1;
      if (spec.delayMs) {
        await sleep(spec.delayMs, timers);
        if (closing || req.socket.destroyed) {
          record(0, 'delay');
          return;
        }
      }
      if (!spec.takeEffect) {
        if (spec.reset) return drop('reset');
        if (spec.kmsError !== undefined) return answer(kmsRefusal(spec, asked, store), 'kms-error');
        if (spec.echo) return answer(faultReply(spec, asked), 'echo');
        if (spec.status !== undefined) return answer(faultReply(spec, asked), 'status');
      }
    }
    let reply: Reply;
    try {
      reply = api(req, url, rawBody, { ignoreKeystate: spec?.tamper === 'ignore-keystate' });
    } catch (e) {
      reply = cmError(500, 14, 'NCERRInternalServerError: unexpected error', String(e));
    }
    if (spec?.takeEffect) {
      // The request took effect; its answer is lost on the way back.
      return spec.reset ? drop('lost-answer') : answer(faultReply(spec, asked), 'lost-answer');
    }
    if (spec?.tamper) return answer(tamperReply(reply, spec), 'tamper');
    answer(reply, spec ? 'delay' : undefined);
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

  const port = await listenOnLoopback(server, options.port);

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
    syncJobs: jobs.api,
    get requests() {
      return [...log];
    },
    requestsTo(pathGlob, method) {
      return log.filter((e) => globMatch(pathGlob, e.path) && (!method || e.method === method.toUpperCase()));
    },
    get counters() {
      return counters;
    },
    users: auth.users,
    advanceClock(seconds) {
      clockOffsetMs += seconds * 1000;
    },
    reset(opts = {}) {
      faults.clear();
      jobs.clear();
      log = [];
      seq = 0;
      epoch += 1;
      counters = freshCounters();
      if (!opts.keepKeys) loadKeys();
      auth.restoreUsers();
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
