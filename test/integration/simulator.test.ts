import { createHmac } from 'node:crypto';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  generateCa,
  generatePendingKeys,
  generateSimulatorTls,
  MRK_KEY_ID,
  type SimKeyRecord,
  type Simulator,
  type SimulatorTls,
  startSimulator,
} from '../../local/simulator/index.ts';
import { type SimTestClient, simTestClient } from '../helpers/sim-client.ts';

interface TokenBody {
  jwt: string;
  duration: number;
  token_type: string;
  client_id: string;
  refresh_token?: string;
  refresh_token_id?: string;
}
interface ListBody {
  skip: number;
  limit: number;
  total: number;
  resources: SimKeyRecord[];
}

const decodePart = (jwt: string, i: number): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[i]!, 'base64url').toString('utf8')) as Record<string, unknown>;

let tls: SimulatorTls;
let sim: Simulator;
let client: SimTestClient;

beforeAll(async () => {
  tls = await generateSimulatorTls();
  sim = await startSimulator({ tls });
  client = simTestClient(sim);
});
afterEach(() => sim.reset());
afterAll(async () => {
  await client.close();
  await sim.close();
});

describe('TLS', () => {
  it('serves a certificate for 127.0.0.1 and localhost that chains to the exported CA', async () => {
    const agent = new Agent({ connect: { ca: sim.caPem } });
    const viaLocalhost = await request(`https://localhost:${sim.port}/api/v1/cckm/aws/keys`, {
      dispatcher: agent,
    });
    await viaLocalhost.body.dump();
    expect(viaLocalhost.statusCode).toBe(401);
    await agent.close();
    expect(sim.caPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('is refused by a client that pins another CA', async () => {
    const other = await generateCa('Someone else');
    const agent = new Agent({ connect: { ca: other.cert } });
    await expect(
      request(`${sim.url}/api/v1/auth/tokens`, { dispatcher: agent, method: 'POST' }),
    ).rejects.toThrow(/certificate|signature/i);
    await agent.close();
    expect(sim.requests).toHaveLength(0);
  });
});

describe('POST /api/v1/auth/tokens', () => {
  it('grants a 300 s HS256 JWT, a client id and a new refresh token for username and password', async () => {
    const r = await client.call('POST', '/api/v1/auth/tokens', {
      body: {
        grant_type: 'password',
        username: sim.credentials.username,
        password: sim.credentials.password,
      },
    });
    expect(r.status).toBe(200);
    const body = r.json as TokenBody;
    expect(body).toMatchObject({ duration: 300, token_type: 'Bearer' });
    expect(body.client_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.refresh_token).toMatch(/^rt-/);
    expect(body.refresh_token).not.toBe(sim.credentials.refreshToken);
    expect(decodePart(body.jwt, 0)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = decodePart(body.jwt, 1);
    expect(Number(claims.exp) - Number(claims.iat)).toBe(300);
    expect(Math.abs(Number(claims.iat) - Date.now() / 1000)).toBeLessThan(5);
    expect(sim.counters.tokenGrants.password).toBe(1);
    expect(sim.counters.refreshTokensMinted).toBe(1);
  });

  it('mints another refresh token at every password grant, as real CipherTrust Manager does', async () => {
    const login = {
      grant_type: 'password',
      username: sim.credentials.username,
      password: sim.credentials.password,
    };
    const a = (await client.call('POST', '/api/v1/auth/tokens', { body: login })).json as TokenBody;
    const b = (await client.call('POST', '/api/v1/auth/tokens', { body: login })).json as TokenBody;
    expect(a.refresh_token).not.toBe(b.refresh_token);
    expect(sim.counters.refreshTokensMinted).toBe(2);
    expect(sim.counters.tokenGrants.password).toBe(2);
  });

  it('exchanges a refresh token for a JWT without minting a new refresh token', async () => {
    const r = await client.call('POST', '/api/v1/auth/tokens', {
      body: { grant_type: 'refresh_token', refresh_token: sim.credentials.refreshToken },
    });
    expect(r.status).toBe(200);
    expect(r.json).not.toHaveProperty('refresh_token');
    expect(sim.counters.tokenGrants.refresh_token).toBe(1);
    expect(sim.counters.refreshTokensMinted).toBe(0);
    expect(sim.requests[0]).toMatchObject({
      route: 'POST /api/v1/auth/tokens',
      grantType: 'refresh_token',
      status: 200,
    });
  });

  it('renews the refresh token on request and invalidates the old one', async () => {
    const renewed = (
      await client.call('POST', '/api/v1/auth/tokens', {
        body: {
          grant_type: 'refresh_token',
          refresh_token: sim.credentials.refreshToken,
          renew_refresh_token: true,
        },
      })
    ).json as TokenBody;
    expect(renewed.refresh_token).toMatch(/^rt-/);
    const old = await client.call('POST', '/api/v1/auth/tokens', {
      body: { grant_type: 'refresh_token', refresh_token: sim.credentials.refreshToken },
    });
    expect(old.status).toBe(401);
  });

  it.each([
    ['a wrong password', { grant_type: 'password', username: 'deletion-guard', password: 'nope' }],
    ['an unknown refresh token', { grant_type: 'refresh_token', refresh_token: 'rt-unknown' }],
    ['no grant_type', { name: 'admin', password: 'admin' }],
  ])('answers 401 NCERRUnauthorizedAccess for %s', async (_what, body) => {
    const r = await client.call('POST', '/api/v1/auth/tokens', { body });
    expect(r.status).toBe(401);
    expect(r.json).toEqual({
      code: 5,
      codeDesc: 'NCERRUnauthorizedAccess',
      message: 'Wrong username or password.',
    });
    expect(sim.counters.tokenRejections).toBe(1);
  });

  it('signs tokens so that a tampered payload is refused', async () => {
    const jwt = await client.token();
    const [h, p, s] = jwt.split('.') as [string, string, string];
    const claims = decodePart(jwt, 1);
    const forged = Buffer.from(JSON.stringify({ ...claims, exp: Number(claims.exp) + 3600 })).toString(
      'base64url',
    );
    const r = await client.call('GET', '/api/v1/cckm/aws/keys', { token: `${h}.${forged}.${s}` });
    expect(r.status).toBe(401);
    expect((r.json as { codeDesc: string }).codeDesc).toMatch(
      /^NCERRUnauthorizedAccess: Bearer token malformed/,
    );
    // The signature is HMAC-SHA256 over header.payload, so a holder of the key could check it.
    expect(createHmac('sha256', 'x').update(`${h}.${p}`).digest('base64url')).not.toBe(s);
  });
});

describe('bearer checks', () => {
  it('answers 401 without a bearer token and logs that none was sent', async () => {
    const r = await client.call('GET', '/api/v1/cckm/aws/keys');
    expect(r.status).toBe(401);
    expect((r.json as { codeDesc: string }).codeDesc).toMatch(/^NCERRUnauthorizedAccess/);
    expect(sim.requests[0]).toMatchObject({ authorization: 'none', status: 401 });
  });

  it('answers "Token is expired by Ns" once the token has lived past exp', async () => {
    const jwt = await client.token();
    sim.advanceClock(350);
    const r = await client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt });
    expect(r.status).toBe(401);
    expect((r.json as { codeDesc: string }).codeDesc).toMatch(
      /^NCERRUnauthorizedAccess: Bearer token malformed: Token is expired by (49|50|51)s$/,
    );
    const fresh = await client.token();
    expect((await client.call('GET', '/api/v1/cckm/aws/keys', { token: fresh })).status).toBe(200);
  });

  it('expires every issued token at once on expireAllTokens, while new tokens work', async () => {
    const jwt = await client.token();
    expect((await client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt })).status).toBe(200);
    sim.faults.expireAllTokens();
    const r = await client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt });
    expect(r.status).toBe(401);
    expect((r.json as { codeDesc: string }).codeDesc).toMatch(/Token is expired by \d+s$/);
    expect((await client.call('GET', '/api/v1/cckm/aws/keys', { token: await client.token() })).status).toBe(
      200,
    );
  });

  it('uses the configured token lifetime', async () => {
    const short = await startSimulator({ tls, tokenLifetimeSec: 60 });
    const c = simTestClient(short);
    try {
      const r = await c.call('POST', '/api/v1/auth/tokens', {
        body: { grant_type: 'refresh_token', refresh_token: short.credentials.refreshToken },
      });
      const body = r.json as TokenBody;
      expect(body.duration).toBe(60);
      const claims = decodePart(body.jwt, 1);
      expect(Number(claims.exp) - Number(claims.iat)).toBe(60);
    } finally {
      await c.close();
      await short.close();
    }
  });

  it('is lenient about a missing Accept header but logs it, and strict when asked', async () => {
    const jwt = await client.token();
    const lenient = await client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt, accept: null });
    expect(lenient.status).toBe(200);
    expect(sim.requests.at(-1)).toMatchObject({ acceptJson: false });

    const strict = await startSimulator({ tls, requireAcceptJson: true });
    const c = simTestClient(strict);
    try {
      const t = await c.token();
      const r = await c.call('GET', '/api/v1/cckm/aws/keys', { token: t, accept: null });
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ codeDesc: 'NCERRBadRequest: Accept header is invalid.' });
    } finally {
      await c.close();
      await strict.close();
    }
  });
});

describe('GET /api/v1/cckm/aws/keys', () => {
  let jwt: string;
  const list = async (query: string): Promise<ListBody> => {
    const r = await client.call('GET', `/api/v1/cckm/aws/keys${query}`, { token: jwt });
    expect(r.status).toBe(200);
    return r.json as ListBody;
  };
  beforeAll(async () => {
    jwt = await client.token();
  });

  it('pages with a default limit of 10 in the skip/limit/total/resources envelope', async () => {
    const first = await list('');
    expect(Object.keys(first).sort()).toEqual(['limit', 'resources', 'skip', 'total']);
    expect(first).toMatchObject({ skip: 0, limit: 10, total: 11 });
    expect(first.resources).toHaveLength(10);
    const second = await list('?skip=10');
    expect(second.resources).toHaveLength(1);
    expect(second.resources[0]!.id).not.toBe(first.resources[9]!.id);
    const all = await list('?limit=-1');
    expect(all).toMatchObject({ limit: -1, total: 11 });
    expect(all.resources).toHaveLength(11);
  });

  it('filters on repeated keystate values, and a comma-joined value matches nothing', async () => {
    const pending = await list('?keystate=PendingDeletion&keystate=PendingReplicaDeletion&limit=-1');
    expect(pending.resources.map((k) => k.aws_param.KeyState).sort()).toEqual([
      'PendingDeletion',
      'PendingDeletion',
      'PendingDeletion',
      'PendingDeletion',
      'PendingReplicaDeletion',
    ]);
    // `orders` is pending in AWS but CCKM's copy is stale: the listing shows CCKM's view.
    expect(pending.resources.map((k) => k.id)).not.toContain(sim.keys.byName('orders').id);
    expect((await list('?keystate=PendingDeletion,PendingReplicaDeletion')).total).toBe(0);
  });

  it('finds a multi-Region key in every Region by keyid, and one record with the region', async () => {
    expect((await list(`?keyid=${MRK_KEY_ID}`)).total).toBe(3);
    const one = await list(`?keyid=${MRK_KEY_ID}&region=eu-west-1`);
    expect(one.total).toBe(1);
    expect(one.resources[0]!.aws_param.MultiRegionConfiguration?.MultiRegionKeyType).toBe('REPLICA');
    expect(
      (await list(`?keyid=${MRK_KEY_ID}&multi_region_key_type=PRIMARY`)).resources[0]!.aws_param.KeyState,
    ).toBe('PendingReplicaDeletion');
  });

  it('filters on id, arn, kms and both alias forms', async () => {
    const ledger = sim.keys.byName('ledger');
    expect((await list(`?id=${ledger.id}`)).resources.map((k) => k.id)).toEqual([ledger.id]);
    expect(
      (await list(`?arn=${encodeURIComponent(ledger.aws_param.Arn)}`)).resources.map((k) => k.id),
    ).toEqual([ledger.id]);
    expect((await list('?alias=alias/ledger')).resources.map((k) => k.id)).toEqual([ledger.id]);
    expect((await list('?alias=ledger')).resources.map((k) => k.id)).toEqual([ledger.id]);
    expect((await list('?kms=kms-dev')).total).toBe(2);
  });

  it('returns two records for an account registered under two KMS containers', async () => {
    const reporting = sim.keys.byName('reporting');
    const r = await list(`?keyid=${reporting.aws_param.KeyID}&region=us-west-2`);
    expect(r.total).toBe(2);
    expect(r.resources.map((k) => k.kms).sort()).toEqual(['kms-shared', 'kms-shared-legacy']);
  });

  it('does not list a key that exists only in AWS', async () => {
    expect((await list('?alias=alias/shadow-it')).total).toBe(0);
  });

  it('rejects a non-integer limit and a boolean that is not lowercase', async () => {
    const a = await client.call('GET', '/api/v1/cckm/aws/keys?limit=ten', { token: jwt });
    expect(a.status).toBe(400);
    expect(a.json).toMatchObject({ codeDesc: expect.stringMatching(/^NCERRInvalidParamValue/) });
    expect((await client.call('GET', '/api/v1/cckm/aws/keys?gone=True', { token: jwt })).status).toBe(400);
  });

  it('can be told to accept only the alias/ form', async () => {
    const strict = await startSimulator({ tls, aliasFilter: 'prefixed' });
    const c = simTestClient(strict);
    try {
      const t = await c.token();
      const bare = await c.call('GET', '/api/v1/cckm/aws/keys?alias=ledger', { token: t });
      const prefixed = await c.call('GET', '/api/v1/cckm/aws/keys?alias=alias/ledger', { token: t });
      expect((bare.json as ListBody).total).toBe(0);
      expect((prefixed.json as ListBody).total).toBe(1);
    } finally {
      await c.close();
      await strict.close();
    }
  });
});

describe('key actions', () => {
  let jwt: string;
  const post = (id: string, action: string, body?: unknown) =>
    client.call('POST', `/api/v1/cckm/aws/keys/${id}/${action}`, { token: jwt, body });
  beforeAll(async () => {
    jwt = await client.token();
  });

  it('reads one key, and answers 404 NCERRResourceNotFound for an unknown id', async () => {
    const payments = sim.keys.byName('payments');
    const r = await client.call('GET', `/api/v1/cckm/aws/keys/${payments.id}`, { token: jwt });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      id: payments.id,
      region: 'us-east-1',
      kms: 'kms-prod',
      deletion_date: expect.stringMatching(/^\d{4}-/),
      aws_param: { KeyState: 'PendingDeletion', Enabled: false, Alias: ['alias/payments'] },
    });
    const missing = await client.call('GET', '/api/v1/cckm/aws/keys/00000000-0000-4000-8000-000000000000', {
      token: jwt,
    });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ code: 16, codeDesc: 'NCERRResourceNotFound: Resource not found' });
    expect(sim.counters.byRoute['GET /api/v1/cckm/aws/keys/{id}']).toBe(2);
  });

  it('cancels a pending deletion, leaving the key Disabled in AWS and in the record', async () => {
    const payments = sim.keys.byName('payments');
    const r = await post(payments.id, 'cancel-deletion');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      id: payments.id,
      deletion_date: '',
      aws_param: { KeyState: 'Disabled', Enabled: false },
    });
    expect(sim.keys.aws(payments.id)?.KeyState).toBe('Disabled');
  });

  it('fails a cancel on a key that is not pending deletion the way KMS does through CCKM', async () => {
    const analytics = sim.keys.byName('analytics');
    const r = await post(analytics.id, 'cancel-deletion');
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({
      codeDesc: 'NCERRBadRequest',
      message: `KMSInvalidStateException: ${analytics.aws_param.Arn} is not pending deletion.`,
    });
  });

  it('cancels the multi-Region primary in PendingReplicaDeletion', async () => {
    const primary = sim.keys.byName('global-primary');
    const r = await post(primary.id, 'cancel-deletion');
    expect(r.status).toBe(200);
    expect((r.json as SimKeyRecord).aws_param.KeyState).toBe('Disabled');
  });

  it('enables and disables a key, but refuses to enable one pending deletion', async () => {
    const ledger = sim.keys.byName('ledger');
    const refused = await post(ledger.id, 'enable');
    expect(refused.status).toBe(400);
    expect((refused.json as { message: string }).message).toContain('is pending deletion.');
    await post(ledger.id, 'cancel-deletion');
    expect(((await post(ledger.id, 'enable')).json as SimKeyRecord).aws_param).toMatchObject({
      KeyState: 'Enabled',
      Enabled: true,
    });
    expect(((await post(ledger.id, 'disable')).json as SimKeyRecord).aws_param.KeyState).toBe('Disabled');
  });

  it('schedules deletion for 7-30 days; a primary with replicas goes to PendingReplicaDeletion', async () => {
    const analytics = sim.keys.byName('analytics');
    expect((await post(analytics.id, 'schedule-deletion', { days: 5 })).status).toBe(400);
    const r = await post(analytics.id, 'schedule-deletion', { days: 7 });
    expect(r.status).toBe(200);
    const rec = r.json as SimKeyRecord;
    expect(rec.aws_param.KeyState).toBe('PendingDeletion');
    expect(Date.parse(rec.deletion_date) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);

    const primary = sim.keys.byName('global-primary');
    await post(primary.id, 'cancel-deletion');
    const again = await post(primary.id, 'schedule-deletion', { days: 30 });
    expect((again.json as SimKeyRecord).aws_param.KeyState).toBe('PendingReplicaDeletion');
    expect((again.json as SimKeyRecord).deletion_date).toBe('');
  });

  it('acts on the AWS truth when CCKM copy is stale (deletion scheduled directly in AWS)', async () => {
    const orders = sim.keys.byName('orders');
    expect(orders.aws_param.KeyState).toBe('Enabled');
    expect(sim.keys.aws(orders.id)?.KeyState).toBe('PendingDeletion');
    const r = await post(orders.id, 'cancel-deletion');
    expect(r.status).toBe(200);
    expect((r.json as SimKeyRecord).aws_param.KeyState).toBe('Disabled');
  });

  it('refreshes asynchronously: the message first, the updated copy shortly after', async () => {
    const analytics = sim.keys.byName('analytics');
    sim.keys.scheduleDeletionInAws(analytics.id, 10);
    expect(sim.keys.get(analytics.id)?.aws_param.KeyState).toBe('Enabled');
    const r = await post(analytics.id, 'refresh', {});
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ message: `AWS key '${analytics.id}' will be refreshed and persisted` });
    expect(sim.keys.get(analytics.id)?.aws_param.KeyState).toBe('Enabled');
    await expect
      .poll(() => sim.keys.get(analytics.id)?.aws_param.KeyState, { timeout: 2000 })
      .toBe('PendingDeletion');
    expect(sim.keys.get(analytics.id)?.updatedAt).not.toBe(analytics.updatedAt);
  });

  it('catches up with AWS by itself when auto-sync is configured', async () => {
    const analytics = sim.keys.byName('analytics');
    sim.keys.autoSyncMs = 0;
    try {
      sim.keys.scheduleDeletionInAws(analytics.id);
      const r = await client.call('GET', `/api/v1/cckm/aws/keys/${analytics.id}`, { token: jwt });
      expect((r.json as SimKeyRecord).aws_param.KeyState).toBe('PendingDeletion');
    } finally {
      sim.keys.autoSyncMs = undefined;
    }
  });

  it('marks a record gone when the key no longer exists in AWS, and a cancel then fails with 404', async () => {
    const archive = sim.keys.byName('archive');
    sim.keys.deleteInAws(archive.id);
    expect(sim.keys.get(archive.id)?.gone).toBe(true);
    expect((await post(archive.id, 'cancel-deletion')).status).toBe(404);
  });

  it('answers 404 for an unknown action and 405 for the wrong method', async () => {
    const id = sim.keys.byName('payments').id;
    expect((await post(id, 'explode')).status).toBe(404);
    expect(
      (await client.call('GET', `/api/v1/cckm/aws/keys/${id}/cancel-deletion`, { token: jwt })).status,
    ).toBe(405);
  });

  it('restores the seeded inventory on reset()', async () => {
    const payments = sim.keys.byName('payments');
    await post(payments.id, 'cancel-deletion');
    sim.reset();
    expect(sim.keys.get(payments.id)?.aws_param.KeyState).toBe('PendingDeletion');
    expect(sim.requests).toHaveLength(0);
    expect(sim.counters.requests).toBe(0);
  });

  it('holds 10,000 generated pending keys and lists them all', async () => {
    for (const k of generatePendingKeys(10_000)) sim.keys.add(k);
    const r = await client.call('GET', '/api/v1/cckm/aws/keys?keystate=PendingDeletion&limit=-1', {
      token: jwt,
    });
    expect((r.json as ListBody).total).toBe(10_004);
    const page = await client.call(
      'GET',
      '/api/v1/cckm/aws/keys?keystate=PendingDeletion&skip=9990&limit=100',
      {
        token: jwt,
      },
    );
    expect((page.json as ListBody).resources).toHaveLength(14);
  });
});

describe('fault injection', () => {
  let jwt: string;
  const cancelPath = '/api/v1/cckm/aws/keys/*/cancel-deletion';
  beforeAll(async () => {
    jwt = await client.token();
  });

  it('answers the next N matching requests with a status and a CM error body, then behaves', async () => {
    const id = sim.keys.byName('payments').id;
    sim.faults.failNext(2, 503, { method: 'POST', path: cancelPath });
    const a = await client.call('POST', `/api/v1/cckm/aws/keys/${id}/cancel-deletion`, { token: jwt });
    const b = await client.call('POST', `/api/v1/cckm/aws/keys/${id}/cancel-deletion`, { token: jwt });
    const c = await client.call('POST', `/api/v1/cckm/aws/keys/${id}/cancel-deletion`, { token: jwt });
    expect([a.status, b.status, c.status]).toEqual([503, 503, 200]);
    expect(a.json).toMatchObject({ codeDesc: expect.stringMatching(/^NCERR/) });
    expect(sim.requestsTo(cancelPath, 'POST').map((e) => [e.status, e.fault])).toEqual([
      [503, 'status'],
      [503, 'status'],
      [200, undefined],
    ]);
    sim.faults.assertAllConsumed();
  });

  it('does not apply a rule to another method or path, and reports it unconsumed', () => {
    sim.faults.failNext(1, 500, { method: 'POST', path: cancelPath });
    return client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt }).then((r) => {
      expect(r.status).toBe(200);
      expect(() => sim.faults.assertAllConsumed()).toThrow(/unconsumed simulator faults: #\d+ POST/);
    });
  });

  it('sends Retry-After with a 429', async () => {
    sim.faults.failNext(1, 429, { path: '/api/v1/cckm/aws/keys' }, { retryAfter: 2 });
    const r = await client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt });
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe('2');
  });

  it('matches a body fragment when asked', async () => {
    sim.faults.failNext(1, 500, { path: '/api/v1/auth/tokens', bodyIncludes: '"grant_type":"password"' });
    expect(
      (
        await client.call('POST', '/api/v1/auth/tokens', {
          body: { grant_type: 'refresh_token', refresh_token: sim.credentials.refreshToken },
        })
      ).status,
    ).toBe(200);
    const pw = await client.call('POST', '/api/v1/auth/tokens', {
      body: {
        grant_type: 'password',
        username: sim.credentials.username,
        password: sim.credentials.password,
      },
    });
    expect(pw.status).toBe(500);
  });

  it('holds the headers back (slow headers) so a client timeout fires, then answers normally', async () => {
    sim.faults.delayNext(1, 600, { path: '/api/v1/cckm/aws/keys' });
    await expect(
      client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt, signal: AbortSignal.timeout(150) }),
    ).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    sim.faults.delayNext(1, 200, { path: '/api/v1/cckm/aws/keys' });
    const r = await client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt });
    expect(r.status).toBe(200);
    // The delayed request answered normally, and the log says the delay rule took it.
    expect(sim.requests.at(-1)).toMatchObject({ status: 200, fault: 'delay' });
  });

  it('resets the connection', async () => {
    sim.faults.resetNext(1, { path: '/api/v1/cckm/aws/keys' });
    await expect(client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt })).rejects.toThrow(
      /socket|reset|closed/i,
    );
    expect(sim.requests.at(-1)).toMatchObject({ status: 0, fault: 'reset' });
    expect((await client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt })).status).toBe(200);
  });

  it('sends a malformed body, and a 2xx that carries a codeDesc', async () => {
    sim.faults.malformedNext(1, { path: '/api/v1/cckm/aws/keys' });
    const bad = await client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt });
    expect(bad.status).toBe(200);
    expect(bad.json).toBeUndefined();
    sim.faults.failNext(
      1,
      200,
      { path: '/api/v1/cckm/aws/keys' },
      { body: { code: 14, codeDesc: 'NCERRInternalServerError: unexpected error' } },
    );
    const odd = await client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt });
    expect(odd.status).toBe(200);
    expect(odd.json).toEqual({ code: 14, codeDesc: 'NCERRInternalServerError: unexpected error' });
    sim.faults.failNext(
      1,
      502,
      { path: '/api/v1/cckm/aws/keys' },
      { body: '<html>Bad Gateway</html>', contentType: 'text/html' },
    );
    const html = await client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt });
    expect(html.headers['content-type']).toBe('text/html');
  });

  it('keeps an unlimited rule until cleared', async () => {
    sim.faults.add({ path: '/api/v1/cckm/aws/keys', status: 500, times: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 3; i++)
      expect((await client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt })).status).toBe(500);
    sim.faults.assertAllConsumed();
    sim.faults.clear();
    expect((await client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt })).status).toBe(200);
  });

  it('counts connections: keep-alive reuses one, a new agent opens another', async () => {
    await client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt });
    await client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt });
    const before = sim.counters.connections;
    const other = simTestClient(sim);
    await other.call('GET', '/api/v1/cckm/aws/keys', { token: jwt });
    await other.close();
    expect(sim.counters.connections).toBe(before + 1);
    expect(sim.counters.byRoute['GET /api/v1/cckm/aws/keys']).toBe(3);
  });

  it('never records a token, password or refresh token in the request log', async () => {
    await client.call('POST', '/api/v1/auth/tokens', {
      body: {
        grant_type: 'password',
        username: sim.credentials.username,
        password: sim.credentials.password,
      },
    });
    await client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt });
    const dump = JSON.stringify([sim.requests, sim.counters]);
    expect(dump).not.toContain(jwt);
    expect(dump).not.toContain(sim.credentials.password);
    expect(dump).not.toContain(sim.credentials.refreshToken);
    expect(sim.requests.map((e) => e.authorization)).toEqual(['none', 'bearer']);
  });
});
