import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { simControl } from '../../local/sim-ctl.ts';
import { type Simulator, startSimulator } from '../../local/simulator/index.ts';
import { type SimTestClient, simTestClient } from '../helpers/sim-client.ts';

const run = promisify(execFile);
let sim: Simulator;
let client: SimTestClient;
let target: { url: string; caPem: string };

beforeAll(async () => {
  sim = await startSimulator();
  client = simTestClient(sim);
  target = { url: sim.url, caPem: sim.caPem };
});
afterEach(() => sim.reset());
/** Temporary directories this file made, removed at the end. */
const tempDirs: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
};

afterAll(async () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  await client.close();
  await sim.close();
});

describe('control API under /__sim/', () => {
  it('adds a fault over HTTP that the next matching request gets, and reports it in the state', async () => {
    const added = await simControl(target, 'POST', '/__sim/faults', {
      method: 'POST',
      path: '/api/v1/auth/tokens',
      status: 503,
      retryAfter: 1,
    });
    expect(added).toEqual({ status: 201, body: { id: expect.any(Number) } });
    const r = await client.call('POST', '/api/v1/auth/tokens', { body: { grant_type: 'password' } });
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('1');
    const state = (await simControl(target, 'GET', '/__sim/state')).body as {
      requests: unknown[];
      counters: { faulted: number };
      faults: { remaining: number }[];
    };
    expect(state.counters.faulted).toBe(1);
    expect(state.faults[0]?.remaining).toBe(0);
    // Control calls are not part of the CipherTrust Manager request log.
    expect(state.requests).toHaveLength(1);
  });

  it('clears faults, expires tokens and advances the clock', async () => {
    await simControl(target, 'POST', '/__sim/faults', { path: '*', status: 500, times: -1 });
    expect((await simControl(target, 'DELETE', '/__sim/faults')).status).toBe(204);
    const jwt = await client.token();
    expect((await simControl(target, 'POST', '/__sim/expire-tokens')).status).toBe(204);
    expect((await client.call('GET', '/api/v1/cckm/aws/keys', { token: jwt })).status).toBe(401);
    const fresh = await client.token();
    await simControl(target, 'POST', '/__sim/clock', { advanceSec: 301 });
    expect((await client.call('GET', '/api/v1/cckm/aws/keys', { token: fresh })).status).toBe(401);
  });

  it('schedules a deletion directly in AWS by seeded name, syncs, and resets the inventory', async () => {
    const analytics = sim.keys.byName('analytics');
    const r = await simControl(target, 'POST', '/__sim/keys/analytics/schedule-deletion-in-aws', { days: 9 });
    expect(r.body).toMatchObject({ KeyState: 'PendingDeletion', PendingDeletionWindowInDays: 9 });
    expect(sim.keys.get(analytics.id)?.aws_param.KeyState).toBe('Enabled');
    await simControl(target, 'POST', `/__sim/keys/${analytics.id}/sync`);
    expect(sim.keys.get(analytics.id)?.aws_param.KeyState).toBe('PendingDeletion');
    await simControl(target, 'POST', '/__sim/reset');
    expect(sim.keys.get(analytics.id)?.aws_param.KeyState).toBe('Enabled');
  });

  it('generates pending keys, serves the CA and lists keys with their AWS truth', async () => {
    expect((await simControl(target, 'POST', '/__sim/keys/generate-pending', { count: 25 })).body).toEqual({
      added: 25,
      total: 38,
    });
    expect((await simControl(target, 'GET', '/__sim/ca.pem')).body).toBe(sim.caPem);
    const keys = (await simControl(target, 'GET', '/__sim/keys')).body as {
      id: string;
      aws_truth: { KeyState: string };
    }[];
    expect(keys.find((k) => k.id === sim.keys.byName('orders').id)?.aws_truth.KeyState).toBe(
      'PendingDeletion',
    );
    expect((await simControl(target, 'POST', '/__sim/keys/nope/sync')).status).toBe(400);
  });
});

describe('control API for the new faults, counters and synchronization jobs', () => {
  it('takes the new fault fields over HTTP and refuses a rule that cannot work', async () => {
    const added = await simControl(target, 'POST', '/__sim/faults', {
      method: 'POST',
      path: '/api/v1/cckm/aws/keys/*/cancel-deletion',
      takeEffect: true,
      status: 504,
    });
    expect(added.status).toBe(201);
    const payments = sim.keys.byName('payments');
    const r = await client.call('POST', `/api/v1/cckm/aws/keys/${payments.id}/cancel-deletion`, {
      token: await client.token(),
    });
    expect(r.status).toBe(504);
    expect(sim.keys.aws(payments.id)?.KeyState).toBe('Disabled');
    const bad = await simControl(target, 'POST', '/__sim/faults', { tamper: 'eat-it' });
    expect(bad).toEqual({ status: 400, body: { error: expect.stringMatching(/^tamper must be one of/) } });
  });

  it('reads the counters, starts, lists and completes synchronization jobs, and sets their delay', async () => {
    expect((await simControl(target, 'POST', '/__sim/sync-jobs/delay', { ms: 60_000 })).body).toEqual({
      delayMs: 60_000,
    });
    expect((await simControl(target, 'POST', '/__sim/sync-jobs/delay', { ms: -1 })).status).toBe(400);
    const started = await simControl(target, 'POST', '/__sim/sync-jobs', { regions: ['ap-south-1'] });
    expect(started).toMatchObject({ status: 201, body: { status: 'in_progress', regions: ['ap-south-1'] } });
    expect((await simControl(target, 'POST', '/__sim/sync-jobs', { regions: ['ap-south-1'] })).status).toBe(
      409,
    );
    const done = await simControl(target, 'POST', '/__sim/sync-jobs/complete', {});
    expect(done.body).toEqual([expect.objectContaining({ status: 'completed', keys_synchronized: 1 })]);
    expect(sim.keys.byName('vault-ap').aws_param.KeyState).toBe('PendingDeletion');
    expect((await simControl(target, 'GET', '/__sim/sync-jobs')).body).toHaveLength(1);
    expect((await simControl(target, 'GET', '/__sim/counters')).body).toMatchObject({ syncJobsStarted: 1 });
  });
});

describe('command line', () => {
  /** Runs `local/sim-ctl.ts` against the suite's simulator, its CA written to a temporary file. */
  const simCtl = (...args: string[]) => {
    const caFile = join(tempDir('sim-ctl-'), 'ca.pem');
    writeFileSync(caFile, sim.caPem);
    return run(process.execPath, [
      '--import',
      'tsx',
      'local/sim-ctl.ts',
      '--url',
      sim.url,
      '--ca',
      caFile,
      ...args,
    ]);
  };

  it('sim-ctl adds a fault to a running simulator', async () => {
    const { stdout } = await simCtl('fault', 'GET /api/v1/cckm/aws/keys status=429 retryAfter=3');
    expect(stdout).toMatch(/^201 /);
    const r = await client.call('GET', '/api/v1/cckm/aws/keys', { token: await client.token() });
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe('3');
  });

  it('sim-ctl shorthands: refuse-cancel with a quoted text, start-sync and complete-sync', async () => {
    expect((await simCtl('refuse-cancel', '{arn} is pending import.')).stdout).toMatch(/^201 /);
    const ledger = sim.keys.byName('ledger');
    const r = await client.call('POST', `/api/v1/cckm/aws/keys/${ledger.id}/cancel-deletion`, {
      token: await client.token(),
    });
    expect((r.json as { message: string }).message).toBe(
      `KMSInvalidStateException: ${ledger.aws_param.Arn} is pending import.`,
    );
    await simCtl('sync-delay', '60000');
    expect((await simCtl('start-sync', 'eu-west-1')).stdout).toMatch(/^201 [\s\S]*"in_progress"/);
    expect(sim.keys.byName('telemetry').aws_param.KeyState).toBe('Enabled');
    await simCtl('complete-sync');
    expect(sim.keys.byName('telemetry').aws_param.KeyState).toBe('PendingDeletion');
    await expect(simCtl('tamper')).rejects.toMatchObject({ stderr: expect.stringMatching(/tamper: give/) });
  });

  const stateDir = tempDir('sim-state-');

  it('npm run simulator starts, prints the URL, CA file and credentials, applies --fault, and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'local/simulator/cli.ts',
        '--port',
        '0',
        '--quiet',
        '--fault',
        'POST /api/v1/auth/tokens status=418',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOCAL_STATE_DIR: stateDir } },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      await expect.poll(() => out, { timeout: 20_000, interval: 100 }).toMatch(/refresh_token: rt-/);
      expect(out).toMatch(/CA certificate: \S+cm-ca\.pem/);
      expect(out).toMatch(/PendingReplicaDeletion/);
      const url = /simulator at (https:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      expect(url).toBeDefined();
      const { readFileSync } = await import('node:fs');
      const caFile = /CA certificate: (\S+)/.exec(out)![1]!;
      const res = await simControl({ url: url!, caPem: readFileSync(caFile, 'utf8') }, 'GET', '/__sim/state');
      expect((res.body as { faults: { spec: { status: number } }[] }).faults[0]?.spec.status).toBe(418);
      // The state file sim-ctl reads lands in LOCAL_STATE_DIR, not in a developer's running stack.
      expect(JSON.parse(readFileSync(join(stateDir, 'simulator.json'), 'utf8'))).toMatchObject({
        url,
        caFile,
      });
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
