import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AwsStandIns } from '../../local/aws/index.ts';
import type { FunctionHost } from '../../local/function-host.ts';
import { ACCOUNTS, generateCa, keyArn, type Simulator, stableUuid } from '../../local/simulator/index.ts';
import {
  buildTestBundle,
  callApi,
  guardEnv,
  hostFunction,
  SECRET_ID,
  startBackends,
  stopAll,
} from '../helpers/local-bundles.ts';

/*
 * The real cancel-deletion bundle (built as deployed) against the CipherTrust Manager simulator over
 * HTTPS, with the CA pinned through the secret's ca_cert, and the Secrets Manager stand-in behind
 * the real SDK. Every case checks the API answer and what reached the simulator.
 */

const JWT_HEADER_B64 = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const KEY = '/api/v1/cckm/aws/keys/*';
const CANCEL = '/api/v1/cckm/aws/keys/*/cancel-deletion';
const TOKENS = '/api/v1/auth/tokens';

let sim: Simulator;
let aws: AwsStandIns;
let bundle: string;
/** Everything the functions wrote (their log lines), across the suite. */
const output: string[] = [];
const hosts: FunctionHost[] = [];
/** Every credential value the suite handed out, for the final log check. */
const credentials: string[] = [];

const statuses = (glob: string, method?: string): number[] =>
  sim.requestsTo(glob, method).map((e) => e.status);
const idOf = (name: string): string => sim.keys.byName(name).id;
const cancelPath = (id: string): string => `/keys/${encodeURIComponent(id)}/cancel-deletion`;

/** A new function container with the suite's environment plus `env`; it starts cold at first call. */
const coldStart = (env: Record<string, string> = {}): Promise<FunctionHost> =>
  hostFunction(
    hosts,
    bundle,
    'cancel-deletion',
    { ...guardEnv(sim, aws), POWERTOOLS_LOG_LEVEL: 'DEBUG', POWERTOOLS_METRICS_DISABLED: 'true', ...env },
    (chunk) => output.push(chunk),
  );

const putSecret = (fields: Record<string, string>): void => {
  aws.secrets.put(SECRET_ID, { ca_cert: sim.caPem, ...fields });
};

// No skip when the entry is missing: building the bundle then fails the suite, as it should.
describe('cancel-deletion bundle against the simulator', () => {
  beforeAll(async () => {
    ({ sim, aws } = await startBackends());
    bundle = await buildTestBundle('cancel-deletion');
    credentials.push(sim.credentials.password, sim.credentials.refreshToken);
  }, 60_000);

  afterAll(() => stopAll(hosts, sim, aws));

  beforeEach(() => {
    sim.reset();
    aws.reset();
    putSecret({ refresh_token: sim.credentials.refreshToken });
  });

  it('cancels a seeded key pending deletion: one token, one read, one cancel', async () => {
    const handler = await coldStart();
    const r = await callApi(handler, 'POST', cancelPath(idOf('payments')));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      id: idOf('payments'),
      arn: sim.keys.byName('payments').aws_param.Arn,
      outcome: 'cancelled',
      keyState: 'Disabled',
      enabled: false,
    });
    expect(sim.keys.aws(idOf('payments'))?.KeyState).toBe('Disabled');
    expect(sim.requests.map((e) => e.route)).toEqual([
      'POST /api/v1/auth/tokens',
      'GET /api/v1/cckm/aws/keys/{id}',
      'POST /api/v1/cckm/aws/keys/{id}/cancel-deletion',
    ]);
    expect(sim.requests[0]).toMatchObject({ grantType: 'refresh_token', authorization: 'none' });
    expect(sim.requests.slice(1).every((e) => e.authorization === 'bearer' && e.acceptJson)).toBe(true);
    expect(sim.counters.refreshTokensMinted).toBe(0);
    expect(aws.secrets.reads(SECRET_ID)).toBe(1);
  });

  it('answers not-pending when repeated, reusing the cached token', async () => {
    const handler = await coldStart();
    await callApi(handler, 'POST', cancelPath(idOf('payments')));
    const again = await callApi(handler, 'POST', cancelPath(idOf('payments')));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ outcome: 'not-pending', keyState: 'Disabled', enabled: false });
    expect(sim.counters.tokenGrants.refresh_token).toBe(1);
    // The repeat is attempted and refused by KMS (through CCKM), which is how not-pending is known.
    expect(statuses(CANCEL, 'POST')).toEqual([200, 400]);
  });

  it('enables the key after the cancel when asked', async () => {
    const handler = await coldStart();
    const r = await callApi(handler, 'POST', cancelPath(idOf('ledger')), { enable: true });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ outcome: 'cancelled', keyState: 'Enabled', enabled: true });
    expect(sim.keys.aws(idOf('ledger'))).toMatchObject({ KeyState: 'Enabled', Enabled: true });
    expect(statuses('/api/v1/cckm/aws/keys/*/enable', 'POST')).toEqual([200]);
  });

  it('cancels a key whose CCKM copy is stale (scheduled directly in AWS)', async () => {
    const handler = await coldStart();
    expect(sim.keys.byName('orders').aws_param.KeyState).toBe('Enabled');
    const r = await callApi(handler, 'POST', cancelPath(idOf('orders')));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ outcome: 'cancelled', keyState: 'Disabled' });
    expect(sim.keys.aws(idOf('orders'))?.KeyState).toBe('Disabled');
  });

  it('answers not-pending for a key that is not pending deletion, changing nothing', async () => {
    const handler = await coldStart();
    const r = await callApi(handler, 'POST', cancelPath(idOf('analytics')));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ outcome: 'not-pending', keyState: 'Enabled', enabled: true });
    expect(sim.keys.aws(idOf('analytics'))?.KeyState).toBe('Enabled');
    expect(statuses('/api/v1/cckm/aws/keys/*/enable')).toEqual([]);
  });

  it('resolves a multi-Region replica by ARN in its own Region and cancels only it', async () => {
    const handler = await coldStart();
    const replica = sim.keys.byName('global-replica-eu');
    const r = await callApi(handler, 'POST', '/aws-keys/cancel-deletion', { arn: replica.aws_param.Arn });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: replica.id, outcome: 'cancelled' });
    const lookup = sim.requestsTo('/api/v1/cckm/aws/keys', 'GET');
    expect(lookup).toHaveLength(1);
    const q = new URLSearchParams(lookup[0]!.query);
    expect(q.get('keyid')).toBe(replica.aws_param.KeyID);
    expect(q.get('region')).toBe('eu-west-1');
    expect(sim.keys.aws(idOf('global-primary'))?.KeyState).toBe('PendingReplicaDeletion');
  });

  it('answers 404 for a CCKM id CipherTrust Manager does not know, without a cancel', async () => {
    const handler = await coldStart();
    const r = await callApi(handler, 'POST', cancelPath('0f0e0d0c-0b0a-4909-8807-060504030201'));
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ error: 'NotFound' });
    expect(statuses(KEY, 'GET')).toEqual([404]);
    expect(sim.requestsTo(CANCEL)).toHaveLength(0);
  });

  it('answers 404 for an AWS key CCKM does not manage', async () => {
    const handler = await coldStart();
    const arn = keyArn('us-east-1', ACCOUNTS.prod, stableUuid('aws-key:unmanaged'));
    expect(sim.keys.aws(arn)?.KeyState).toBe('Enabled');
    const r = await callApi(handler, 'POST', '/aws-keys/cancel-deletion', { arn });
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ error: 'NotFound' });
    expect(sim.requestsTo(CANCEL)).toHaveLength(0);
  });

  it('re-mints once when every token expires mid-run, and the call succeeds', async () => {
    const handler = await coldStart();
    expect((await callApi(handler, 'POST', cancelPath(idOf('payments')))).status).toBe(200);
    sim.reset({ keepKeys: true });
    sim.faults.expireAllTokens();
    const r = await callApi(handler, 'POST', cancelPath(idOf('ledger')));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ outcome: 'cancelled' });
    expect(sim.requests.map((e) => `${e.route} ${e.status}`)).toEqual([
      'GET /api/v1/cckm/aws/keys/{id} 401',
      'POST /api/v1/auth/tokens 200',
      'GET /api/v1/cckm/aws/keys/{id} 200',
      'POST /api/v1/cckm/aws/keys/{id}/cancel-deletion 200',
    ]);
    expect(sim.counters.tokenGrants.refresh_token).toBe(1);
  });

  it('picks up a rotated secret after a 401 and never retries the revoked refresh token', async () => {
    const handler = await coldStart();
    expect((await callApi(handler, 'POST', cancelPath(idOf('payments')))).status).toBe(200);
    const rotated = sim.users.issueRefreshToken(sim.credentials.username);
    credentials.push(rotated);
    sim.users.revokeRefreshToken(sim.credentials.refreshToken);
    putSecret({ refresh_token: rotated });
    const readsBefore = aws.secrets.reads(SECRET_ID);
    sim.faults.expireAllTokens();
    const r = await callApi(handler, 'POST', cancelPath(idOf('ledger')));
    expect(r.status).toBe(200);
    expect(aws.secrets.reads(SECRET_ID)).toBe(readsBefore + 1);
    expect(sim.counters.tokenRejections).toBe(0);
    expect(sim.counters.tokenGrants.refresh_token).toBe(2);
  });

  it('logs in with username and password when the secret holds them', async () => {
    putSecret({ username: sim.credentials.username, password: sim.credentials.password });
    const handler = await coldStart();
    expect((await callApi(handler, 'POST', cancelPath(idOf('payments')))).status).toBe(200);
    expect(sim.counters.tokenGrants.password).toBe(1);
    expect(sim.requests[0]).toMatchObject({ grantType: 'password' });
  });

  it('answers 502 when CipherTrust Manager refuses the credentials, without calling a key route', async () => {
    putSecret({ refresh_token: 'rt-revoked-long-ago' });
    const handler = await coldStart();
    const r = await callApi(handler, 'POST', cancelPath(idOf('payments')));
    expect(r.status).toBe(502);
    expect(r.body).toMatchObject({ error: 'BadGateway' });
    expect(statuses(TOKENS).every((s) => s === 401)).toBe(true);
    expect(sim.requestsTo('/api/v1/cckm/*')).toHaveLength(0);
  });

  it('waits for Retry-After on a 429, then cancels', async () => {
    const handler = await coldStart();
    sim.faults.failNext(1, 429, { method: 'POST', path: CANCEL }, { retryAfter: 1 });
    const r = await callApi(handler, 'POST', cancelPath(idOf('payments')));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ outcome: 'cancelled' });
    // The wait itself is asserted in the client's unit tests (injected sleep = Retry-After).
    expect(statuses(CANCEL)).toEqual([429, 200]);
    sim.faults.assertAllConsumed();
  });

  it('rides out a burst of 503s on the key read', async () => {
    const handler = await coldStart();
    sim.faults.failNext(3, 503, { method: 'GET', path: KEY });
    const r = await callApi(handler, 'POST', cancelPath(idOf('payments')));
    expect(r.status).toBe(200);
    expect(statuses(KEY, 'GET')).toEqual([503, 503, 503, 200]);
    sim.faults.assertAllConsumed();
  });

  it('answers 502 after retries when the cancel keeps failing with 502', async () => {
    const handler = await coldStart();
    sim.faults.add({ method: 'POST', path: CANCEL, status: 502, times: Number.POSITIVE_INFINITY });
    const r = await callApi(handler, 'POST', cancelPath(idOf('payments')));
    expect(r.status).toBe(502);
    expect(r.body).toMatchObject({ error: 'BadGateway' });
    const attempts = statuses(CANCEL);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.length).toBeLessThanOrEqual(6);
    expect(attempts.every((s) => s === 502)).toBe(true);
    expect(sim.keys.aws(idOf('payments'))?.KeyState).toBe('PendingDeletion');
  });

  it('does not blindly repeat a cancel that failed with 500', async () => {
    const handler = await coldStart();
    sim.faults.failNext(1, 500, { method: 'POST', path: CANCEL });
    const r = await callApi(handler, 'POST', cancelPath(idOf('payments')));
    expect(r.status).toBe(502);
    expect(statuses(CANCEL)).toEqual([500]);
  });

  it('retries over connection resets', async () => {
    const handler = await coldStart();
    sim.faults.resetNext(2, { method: 'POST', path: CANCEL });
    const r = await callApi(handler, 'POST', cancelPath(idOf('payments')));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ outcome: 'cancelled' });
    expect(statuses(CANCEL)).toEqual([0, 0, 200]);
    expect(sim.counters.connections).toBeGreaterThanOrEqual(3);
  });

  it('answers 504 when slow headers run the time budget out', async () => {
    const handler = await coldStart({ CCKM_TIMEOUT_MS: '1500' });
    sim.faults.delayNext(5, 5000, { method: 'GET', path: KEY });
    const r = await callApi(handler, 'POST', cancelPath(idOf('payments')));
    expect(r.status).toBe(504);
    expect(r.body).toMatchObject({ error: 'GatewayTimeout' });
    expect(sim.counters.byRoute['GET /api/v1/cckm/aws/keys/{id}']).toBeGreaterThanOrEqual(1);
    expect(sim.counters.byRoute['POST /api/v1/cckm/aws/keys/{id}/cancel-deletion']).toBeUndefined();
  });

  it('answers 502 when the certificate does not chain to the pinned CA, and sends nothing', async () => {
    const other = await generateCa('Not the CipherTrust Manager CA');
    aws.secrets.put(SECRET_ID, { refresh_token: sim.credentials.refreshToken, ca_cert: other.cert });
    const handler = await coldStart();
    const r = await callApi(handler, 'POST', cancelPath(idOf('payments')));
    expect(r.status).toBe(502);
    expect(r.body).toMatchObject({ error: 'BadGateway' });
    expect(sim.counters.connections).toBeGreaterThanOrEqual(1);
    expect(sim.requests).toHaveLength(0);
  });

  it('answers 502 for a body that is not JSON, and for a 2xx carrying a codeDesc', async () => {
    const handler = await coldStart();
    sim.faults.malformedNext(1, { method: 'GET', path: KEY });
    const malformed = await callApi(handler, 'POST', cancelPath(idOf('payments')));
    expect(malformed.status).toBe(502);
    expect(malformed.body).toMatchObject({ error: 'BadGateway' });
    sim.faults.failNext(
      1,
      200,
      { method: 'GET', path: KEY },
      { body: { code: 14, codeDesc: 'NCERRInternalServerError: unexpected error' } },
    );
    const disguised = await callApi(handler, 'POST', cancelPath(idOf('payments')));
    expect(disguised.status).toBe(502);
    expect(sim.requestsTo(CANCEL)).toHaveLength(0);
    expect(sim.keys.aws(idOf('payments'))?.KeyState).toBe('PendingDeletion');
  });

  it('answers 502 when Secrets Manager keeps failing, after the SDK retries, calling nothing', async () => {
    const handler = await coldStart();
    aws.faults.failNext({ service: 'secretsmanager', status: 500, times: 50 });
    const r = await callApi(handler, 'POST', cancelPath(idOf('payments')));
    expect(r.status).toBe(502);
    expect(r.body).toMatchObject({ error: 'BadGateway' });
    expect(aws.requests.map((e) => e.status)).toEqual([500, 500, 500]);
    expect(sim.requests).toHaveLength(0);
    aws.faults.clear();
  });

  it('answers 500 with a generic message when the configuration is broken, calling nothing', async () => {
    const handler = await coldStart({ CCKM_URL: 'http://127.0.0.1:1' });
    const r = await callApi(handler, 'POST', cancelPath(idOf('payments')));
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ error: 'InternalServerError' });
    expect(JSON.stringify(r.body)).not.toContain('CCKM_URL');
    expect(sim.requests).toHaveLength(0);
  });

  const hostileIds = [
    'not-a-uuid',
    '../../auth/tokens',
    '78d2be18-b4f5-4f51-bfee-88d51169e552/../../../auth/tokens',
    '78d2be18-b4f5-4f51-bfee-88d51169e552?limit=-1',
    '78d2be18-b4f5-4f51-bfee-88d51169e552\n',
    '78d2be18-b4f5-4f51-bfee-88d51169e552%00',
    "' OR '1'='1",
    'x'.repeat(5000),
    '７８d2be18-b4f5-4f51-bfee-88d51169e552',
  ];
  it.each(
    hostileIds.map((id) => [id.length > 60 ? `${id.slice(0, 20)}… (${id.length})` : JSON.stringify(id), id]),
  )('answers 400 for the hostile id %s with zero upstream requests', async (_label, id) => {
    const handler = await coldStart();
    const r = await callApi(handler, 'POST', cancelPath(id));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'BadRequest' });
    expect(sim.requests).toHaveLength(0);
    expect(sim.counters.connections).toBe(0);
    expect(aws.requests).toHaveLength(0);
  });

  const hostileBodies: [string, unknown][] = [
    ['an ARN with a path in the key id', { arn: 'arn:aws:kms:us-east-1:111122223333:key/../../auth/tokens' }],
    ['an S3 ARN', { arn: 'arn:aws:s3:::bucket' }],
    [
      'a region with a query',
      { keyId: 'mrk-1234abcd12ab34cd56ef1234567890ab', region: 'us-east-1&limit=-1' },
    ],
    [
      'a key id with a query',
      { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab&keystate=Enabled', region: 'us-east-1' },
    ],
    [
      'both an ARN and a key id',
      { arn: 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab', keyId: 'x' },
    ],
    ['an unknown field', { keyId: 'mrk-1234abcd12ab34cd56ef1234567890ab', region: 'us-east-1', force: true }],
    [
      'enable as a string',
      { arn: 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab', enable: 'yes' },
    ],
    ['a body that is not JSON', '{"arn": '],
    ['an array', '[]'],
  ];
  it.each(hostileBodies)(
    'answers 400 for %s on /aws-keys with zero upstream requests',
    async (_label, body) => {
      const handler = await coldStart();
      const r = await callApi(handler, 'POST', '/aws-keys/cancel-deletion', body);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ error: 'BadRequest' });
      expect(sim.requests).toHaveLength(0);
      expect(aws.requests).toHaveLength(0);
    },
  );

  // Runs last: everything the suite logged, at DEBUG, across every case above.
  it('never wrote a password, refresh token, JWT or Authorization header to any log line', () => {
    const text = output.join('');
    expect(text).toContain('cancel-deletion');
    for (const secret of credentials) expect(text).not.toContain(secret);
    expect(text).not.toContain(JWT_HEADER_B64);
    expect(text).not.toMatch(/Bearer\s+[A-Za-z0-9_-]{10,}/);
    expect(text.toLowerCase()).not.toMatch(/"authorization"\s*:\s*"[^"]/);
  });
});
