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
    expect(first).toMatchObject({ skip: 0, limit: 10, total: 13 });
    expect(first.resources).toHaveLength(10);
    const second = await list('?skip=10');
    expect(second.resources).toHaveLength(3);
    expect(second.resources[0]!.id).not.toBe(first.resources[9]!.id);
    const all = await list('?limit=-1');
    expect(all).toMatchObject({ limit: -1, total: 13 });
    expect(all.resources).toHaveLength(13);
  });

  it('selects in the store before copying: the total counts every match, the page is a copy', () => {
    const { total, page } = sim.keys.select((r) => r.region === 'eu-west-1', 1, 1);
    expect(total).toBe(3);
    expect(page.map((r) => r.id)).toEqual([sim.keys.byName('sandbox').id]);
    page[0]!.aws_param.Alias.push('alias/changed-by-a-caller');
    expect(sim.keys.byName('sandbox').aws_param.Alias).toEqual(['alias/sandbox']);
    expect(sim.keys.select(() => true, 0, -1).page).toHaveLength(13);
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

  it('filters on repeated region values', async () => {
    const r = await list('?region=eu-west-1&region=ap-south-1&limit=-1');
    expect(r.resources.map((k) => k.region).sort()).toEqual([
      'ap-south-1',
      'eu-west-1',
      'eu-west-1',
      'eu-west-1',
    ]);
    expect((await list('?region=eu-west-1,ap-south-1')).total).toBe(0);
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
    expect((await list('?kms=kms-dev')).total).toBe(3);
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

describe('faults for the guard under test (issue 10)', () => {
  let jwt: string;
  const keyPath = (name: string, action?: string): string =>
    `/api/v1/cckm/aws/keys/${sim.keys.byName(name).id}${action ? `/${action}` : ''}`;
  const passwordLogin = () => ({
    grant_type: 'password',
    username: sim.credentials.username,
    password: sim.credentials.password,
    labels: ['cckm-deletion-guard'],
    refresh_token_revoke_unused_in: 60,
  });
  beforeAll(async () => {
    jwt = await client.token();
  });

  it('echoes the token request in a JSON error body: raw after parsing, JSON-escaped on the wire', async () => {
    sim.users.setPassword(sim.credentials.username, 'pa"ss\\word-with-quote');
    sim.faults.echoNext(1, 503, { method: 'POST', path: '/api/v1/auth/tokens' });
    const r = await client.call('POST', '/api/v1/auth/tokens', {
      body: {
        grant_type: 'password',
        username: sim.credentials.username,
        password: 'pa"ss\\word-with-quote',
      },
    });
    expect(r.status).toBe(503);
    expect(r.headers['content-type']).toBe('application/json');
    const body = r.json as { code: number; codeDesc: string; message: string };
    expect(body.codeDesc).toMatch(/^NCERR/);
    expect(body.message).toContain('"password":"pa\\"ss\\\\word-with-quote"');
    // On the wire the echoed request is JSON-escaped inside `message`.
    expect(r.text).not.toContain('"password":"pa');
    expect(r.text).toContain('\\"password\\":\\"pa\\\\\\"ss');
    expect(sim.requests.at(-1)).toMatchObject({ status: 503, fault: 'echo' });
    // The request did not reach the handler.
    expect(sim.counters.tokenGrants.password).toBe(0);
  });

  it.each([
    ['html', 502, 'text/html; charset=utf-8'],
    ['text', 400, 'text/plain; charset=utf-8'],
    ['urlencoded', 429, 'application/x-www-form-urlencoded'],
  ] as const)('echoes the body and the Authorization header as %s with %i', async (format, status, type) => {
    sim.faults.echoNext(
      1,
      status,
      { method: 'POST', path: '/api/v1/cckm/aws/keys/*/cancel-deletion' },
      { authorization: true, format },
    );
    const r = await client.call('POST', keyPath('payments', 'cancel-deletion'), {
      token: jwt,
      body: { note: 'a b&c' },
    });
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toBe(type);
    if (format === 'urlencoded') {
      expect(r.text).toContain(encodeURIComponent('{"note":"a b&c"}'));
      expect(r.text).toContain(encodeURIComponent(`Bearer ${jwt}`));
    } else {
      expect(r.text).toContain('{"note":"a b&c"}');
      expect(r.text).toContain(`Bearer ${jwt}`);
    }
    expect(sim.keys.aws(sim.keys.byName('payments').id)?.KeyState).toBe('PendingDeletion');
  });

  it('echoes no Authorization header unless asked', async () => {
    sim.faults.echoNext(1, 504, { path: '/api/v1/cckm/aws/keys' }, { format: 'text' });
    const r = await client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt });
    expect(r.status).toBe(504);
    expect(r.text).not.toContain(jwt);
  });

  it('loses the answer of a cancel that took effect: 504, and the retry finds it not pending', async () => {
    sim.faults.loseAnswerNext();
    const first = await client.call('POST', keyPath('payments', 'cancel-deletion'), { token: jwt });
    expect(first.status).toBe(504);
    expect(sim.keys.aws(sim.keys.byName('payments').id)?.KeyState).toBe('Disabled');
    const retry = await client.call('POST', keyPath('payments', 'cancel-deletion'), { token: jwt });
    expect(retry.status).toBe(400);
    expect((retry.json as { message: string }).message).toMatch(/is not pending deletion\.$/);
    expect(sim.requestsTo('/api/v1/cckm/aws/keys/*/cancel-deletion').map((e) => e.fault)).toEqual([
      'lost-answer',
      undefined,
    ]);
    sim.faults.assertAllConsumed();
  });

  it('loses the answer by dropping the connection after the cancel took effect', async () => {
    sim.faults.loseAnswerNext(1, undefined, 'reset');
    await expect(client.call('POST', keyPath('ledger', 'cancel-deletion'), { token: jwt })).rejects.toThrow(
      /socket|reset|closed/i,
    );
    expect(sim.keys.aws(sim.keys.byName('ledger').id)?.KeyState).toBe('Disabled');
    expect(sim.requests.at(-1)).toMatchObject({ status: 0, fault: 'lost-answer' });
  });

  it.each([
    ['{arn} is pending deletion.', 'is pending deletion.'],
    ['{arn} is pending import.', 'is pending import.'],
  ])('refuses a cancel with "%s" and changes nothing', async (text, tail) => {
    const payments = sim.keys.byName('payments');
    sim.faults.refuseCancelNext(1, text);
    const r = await client.call('POST', keyPath('payments', 'cancel-deletion'), { token: jwt });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({
      code: 10,
      codeDesc: 'NCERRBadRequest',
      message: `KMSInvalidStateException: ${payments.aws_param.Arn} ${tail}`,
    });
    expect(sim.keys.aws(payments.id)?.KeyState).toBe('PendingDeletion');
    expect(sim.requests.at(-1)?.fault).toBe('kms-error');
  });

  it('refuses with another exception name and status when asked', async () => {
    sim.faults.refuseCancelNext(1, 'key {keyId} ({id}) is busy', {
      exception: 'KMSInternalException',
      status: 500,
    });
    const ledger = sim.keys.byName('ledger');
    const r = await client.call('POST', keyPath('ledger', 'cancel-deletion'), { token: jwt });
    expect(r.status).toBe(500);
    expect((r.json as { message: string }).message).toBe(
      `KMSInternalException: key ${ledger.aws_param.KeyID} (${ledger.id}) is busy`,
    );
  });

  it('lists one malformed record among good ones: a missing Arn, then a non-UUID id', async () => {
    sim.faults.tamperNext(1, 'missing-arn', { path: '/api/v1/cckm/aws/keys' });
    const a = (await client.call('GET', '/api/v1/cckm/aws/keys?limit=-1', { token: jwt })).json as ListBody;
    expect(a.resources.filter((k) => k.aws_param.Arn === undefined)).toHaveLength(1);
    expect(a.resources[0]!.aws_param.Arn).toBeUndefined();
    expect(a.resources[1]!.aws_param.Arn).toMatch(/^arn:aws:kms:/);

    sim.faults.tamperNext(1, 'non-uuid-id', { path: '/api/v1/cckm/aws/keys' }, 2);
    const b = (await client.call('GET', '/api/v1/cckm/aws/keys?limit=-1', { token: jwt })).json as ListBody;
    expect(b.resources.map((k) => k.id).filter((id) => !/^[0-9a-f-]{36}$/.test(id))).toEqual(['not-a-uuid']);
    expect(b.resources[2]!.id).toBe('not-a-uuid');
    expect(sim.requests.at(-1)?.fault).toBe('tamper');
    // The inventory itself is untouched.
    expect(sim.keys.list().every((k) => k.aws_param.Arn && /^[0-9a-f-]{36}$/.test(k.id))).toBe(true);
  });

  it('answers a listing as if keystate had not been sent (every key)', async () => {
    sim.faults.tamperNext(1, 'ignore-keystate', { path: '/api/v1/cckm/aws/keys' });
    const q = '/api/v1/cckm/aws/keys?keystate=PendingDeletion&limit=-1';
    const ignored = (await client.call('GET', q, { token: jwt })).json as ListBody;
    expect(ignored.total).toBe(13);
    expect(ignored.resources.map((k) => k.aws_param.KeyState)).toContain('Enabled');
    expect(((await client.call('GET', q, { token: jwt })).json as ListBody).total).toBe(4);
  });

  it('answers GET /keys/{id} with a record whose id is not the one asked for', async () => {
    sim.faults.tamperNext(1, 'other-id', { method: 'GET', path: '/api/v1/cckm/aws/keys/*' });
    const payments = sim.keys.byName('payments');
    const r = await client.call('GET', keyPath('payments'), { token: jwt });
    expect(r.status).toBe(200);
    const rec = r.json as SimKeyRecord;
    expect(rec.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4/);
    expect(rec.id).not.toBe(payments.id);
    expect(rec.aws_param.Arn).toBe(payments.aws_param.Arn);
  });

  it('refuses rules whose effects exclude each other, naming the field', () => {
    expect(() => sim.faults.add({ tamper: 'missing-arn', status: 500 })).toThrow(/tamper .* status/);
    expect(() => sim.faults.add({ takeEffect: true, delayMs: 10 })).toThrow(/takeEffect needs/);
    expect(() => sim.faults.add({ echo: 'body', echoFormat: 'xml' as 'json' })).toThrow(/echoFormat must be/);
    expect(() => sim.faults.add({ kmsError: 'x', reset: true })).toThrow(/kmsError is an answer/);
    expect(sim.faults.list()).toHaveLength(0);
  });

  it('counts token requests by grant type on arrival and keeps the last password grant without the password', async () => {
    sim.faults.failNext(1, 503, { path: '/api/v1/auth/tokens', bodyIncludes: '"grant_type":"password"' });
    expect((await client.call('POST', '/api/v1/auth/tokens', { body: passwordLogin() })).status).toBe(503);
    expect((await client.call('POST', '/api/v1/auth/tokens', { body: passwordLogin() })).status).toBe(200);
    await client.token();
    await client.call('POST', '/api/v1/auth/tokens', { body: { refresh_token: 'x' } });
    expect(sim.counters.tokenRequests).toEqual({ password: 2, refresh_token: 1, '(none)': 1 });
    expect(sim.counters.tokenGrants).toEqual({ password: 1, refresh_token: 1 });
    expect(sim.counters.lastPasswordGrant).toEqual({
      fields: ['grant_type', 'labels', 'password', 'refresh_token_revoke_unused_in', 'username'],
      values: {
        grant_type: 'password',
        username: sim.credentials.username,
        labels: ['cckm-deletion-guard'],
        refresh_token_revoke_unused_in: 60,
      },
    });
    expect(JSON.stringify(sim.counters)).not.toContain(sim.credentials.password);
    expect(sim.counters.byRoute['POST /api/v1/auth/tokens']).toBe(4);
  });
});

describe('CCKM synchronization jobs (issue 11)', () => {
  let jwt: string;
  const JOBS = '/api/v1/cckm/aws/synchronization-jobs';
  interface Job {
    id: string;
    status: string;
    overall_status: string;
    regions: string[];
    kms: string[];
    synchronize_all: boolean;
    detailed_status: Record<string, string>;
    keys_synchronized: number;
  }
  const start = (body: unknown) => client.call('POST', JOBS, { token: jwt, body });
  beforeAll(async () => {
    jwt = await client.token();
  });

  it('starts a job in_progress, refuses a second with 409, completes after the delay and refreshes those Regions', async () => {
    const telemetry = sim.keys.byName('telemetry');
    const vault = sim.keys.byName('vault-ap');
    expect(telemetry.aws_param.KeyState).toBe('Enabled');
    const r = await start({ regions: ['eu-west-1'] });
    expect(r.status).toBe(201);
    const job = r.json as Job;
    expect(job).toMatchObject({
      status: 'in_progress',
      overall_status: 'in_progress',
      regions: ['eu-west-1'],
      kms: [],
      synchronize_all: false,
    });
    expect(job.id).toMatch(/^[0-9a-f-]{36}$/);

    const busy = await start({ synchronize_all: true });
    expect(busy.status).toBe(409);
    expect((busy.json as { codeDesc: string }).codeDesc).toMatch(/^NCERRConflict/);
    const running = (await client.call('GET', `${JOBS}?status=in_progress`, { token: jwt })).json as {
      total: number;
      resources: Job[];
    };
    expect(running.total).toBe(1);
    expect(running.resources[0]!.id).toBe(job.id);

    await expect
      .poll(
        async () => ((await client.call('GET', `${JOBS}/${job.id}`, { token: jwt })).json as Job).status,
        {
          timeout: 5000,
        },
      )
      .toBe('completed');
    const done = sim.syncJobs.get(job.id)!;
    expect(done.overall_status).toBe('completed');
    expect(done.detailed_status['444455556666/eu-west-1']).toBe('completed');
    expect(done.keys_synchronized).toBe(3);
    expect(sim.keys.get(telemetry.id)?.aws_param.KeyState).toBe('PendingDeletion');
    // Outside the job's Regions, CCKM's copy stays stale.
    expect(sim.keys.get(vault.id)?.aws_param.KeyState).toBe('Enabled');
    expect(
      ((await client.call('GET', `${JOBS}?status=in_progress`, { token: jwt })).json as { total: number })
        .total,
    ).toBe(0);
    expect(sim.counters.syncJobsStarted).toBe(1);
    expect(sim.counters.byRoute['GET /api/v1/cckm/aws/synchronization-jobs/{id}']).toBeGreaterThan(0);
  });

  it('makes a deletion scheduled directly in AWS visible to a sweep-style listing once completed', async () => {
    const analytics = sim.keys.byName('analytics');
    sim.keys.scheduleDeletionInAws(analytics.id, 7);
    const pendingIds = async () =>
      (
        (
          await client.call(
            'GET',
            '/api/v1/cckm/aws/keys?keystate=PendingDeletion&region=us-east-1&limit=-1',
            {
              token: jwt,
            },
          )
        ).json as ListBody
      ).resources.map((k) => k.id);
    expect(await pendingIds()).not.toContain(analytics.id);
    sim.syncJobs.delayMs = 60_000;
    const job = (await start({ kms: ['kms-dev'], regions: ['us-east-1'] })).json as Job;
    expect(await pendingIds()).not.toContain(analytics.id);
    expect(sim.syncJobs.completeNow().map((j) => j.id)).toEqual([job.id]);
    expect(await pendingIds()).toContain(analytics.id);
    // The kms filter kept kms-prod's `orders` (also us-east-1, also stale) out of this job.
    expect(await pendingIds()).not.toContain(sim.keys.byName('orders').id);
  });

  it('synchronizes everything with synchronize_all, and cancels a running job', async () => {
    sim.syncJobs.delayMs = 60_000;
    const a = (await start({ synchronize_all: true })).json as Job;
    const cancelled = await client.call('POST', `${JOBS}/${a.id}/cancel`, { token: jwt });
    expect((cancelled.json as Job).status).toBe('cancelled');
    expect(sim.keys.byName('vault-ap').aws_param.KeyState).toBe('Enabled');
    const b = (await start({ synchronize_all: true })).json as Job;
    sim.syncJobs.completeNow(b.id);
    expect(sim.keys.byName('vault-ap').aws_param.KeyState).toBe('PendingDeletion');
    expect(sim.keys.byName('orders').aws_param.KeyState).toBe('PendingDeletion');
    expect(sim.syncJobs.list().map((j) => j.status)).toEqual(['cancelled', 'completed']);
  });

  it.each([
    ['nothing to synchronize', {}],
    ['synchronize_all with regions', { synchronize_all: true, regions: ['eu-west-1'] }],
    ['a Region that is not one', { regions: ['eu-west-1&keystate=x'] }],
    ['regions that are not a list', { regions: 'eu-west-1' }],
  ])('answers 400 for %s and starts nothing', async (_what, body) => {
    const r = await start(body);
    expect(r.status).toBe(400);
    expect((r.json as { codeDesc: string }).codeDesc).toMatch(/^NCERRInvalidParamValue/);
    expect(sim.syncJobs.list()).toHaveLength(0);
    expect(sim.counters.syncJobsStarted).toBe(0);
  });

  it('answers 404 for an unknown job, needs a bearer token, and forgets jobs on reset', async () => {
    expect(
      (await client.call('GET', `${JOBS}/00000000-0000-4000-8000-000000000000`, { token: jwt })).status,
    ).toBe(404);
    expect((await client.call('POST', JOBS, { body: { synchronize_all: true } })).status).toBe(401);
    await start({ synchronize_all: true });
    sim.reset();
    expect(sim.syncJobs.list()).toHaveLength(0);
  });
});
