import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * Smoke test of `npm start` (local/start.ts) as a person runs it: a child process, the banner, the
 * pasted commands over HTTP, then SIGTERM. PORT=0 picks a free port; LOCAL_STATE_DIR keeps the
 * test away from the state of a stack a developer may be running.
 */

const stateDir = mkdtempSync(join(tmpdir(), 'guard-start-'));

function startLocal(env: Record<string, string>): {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  err: () => string;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    env: { ...process.env, LOCAL_STATE_DIR: stateDir, ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return { child, out: () => out, err: () => err };
}

const exitOf = (child: ChildProcessWithoutNullStreams): Promise<number | null> =>
  child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', resolve));

describe('npm start', () => {
  let run: ReturnType<typeof startLocal>;
  let url: string;

  beforeAll(async () => {
    run = startLocal({ PORT: '0' });
    const deadline = Date.now() + 60_000;
    while (
      !/Ready on http|failed/.test(run.out() + run.err()) &&
      run.child.exitCode === null &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    url = /Ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.out())?.[1] ?? '';
    expect(url, run.err()).not.toBe('');
  }, 90_000);

  afterAll(async () => {
    if (run.child.exitCode === null) {
      run.child.kill('SIGKILL');
      await exitOf(run.child);
    }
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('prints the seeded keys, both functions ready and commands to paste', () => {
    const out = run.out();
    expect(out).toMatch(/function cancel-deletion\s+ready/);
    expect(out).toMatch(/function remediate-deletion\s+ready/);
    expect(out).toMatch(/PendingReplicaDeletion/);
    expect(out).toMatch(/CCKM copy is stale/);
    expect(out).toContain(`curl -s -X POST ${url}/keys/`);
    expect(out).toContain('npm run event -- sweep');
    // The banner shows where the simulator's CA is, for sim-ctl and curl.
    expect(JSON.parse(readFileSync(join(stateDir, 'simulator.json'), 'utf8'))).toMatchObject({
      url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
    });
  });

  it('cancels a seeded key with the first pasted command, then reports not-pending', async () => {
    const path = new RegExp(
      `curl -s -X POST ${url.replace(/[.]/g, '\\.')}(/keys/[0-9a-f-]{36}/cancel-deletion)\\n`,
    ).exec(run.out())?.[1];
    expect(path).toBeDefined();
    const first = await fetch(`${url}${path}`, { method: 'POST' });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ outcome: 'cancelled', keyState: 'Disabled', enabled: false });
    const second = await fetch(`${url}${path}`, { method: 'POST' });
    expect(await second.json()).toMatchObject({ outcome: 'not-pending' });
  });

  it('answers 400 for a hostile id and 403 for a path no route serves, as API Gateway does', async () => {
    const bad = await fetch(`${url}/keys/..%2F..%2Fauth%2Ftokens/cancel-deletion`, { method: 'POST' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'BadRequest' });
    const missing = await fetch(`${url}/keys`, { method: 'GET' });
    expect(missing.status).toBe(403);
    expect(await missing.json()).toEqual({ message: 'Missing Authentication Token' });
  });

  it('hands a sample event to the remediation function and returns its outcomes', async () => {
    const event = readFileSync('local/events/schedule-key-deletion.json', 'utf8');
    const r = await fetch(`${url}/events`, {
      method: 'POST',
      body: event,
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { outcomes: { outcome: string; key: { arn: string } }[] };
    expect(body.outcomes).toEqual([
      expect.objectContaining({
        outcome: 'cancelled',
        key: expect.objectContaining({
          arn: 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        }),
      }),
    ]);
  });

  it('runs the remediation with the ledger in dynalite: a sweep reports coverage', async () => {
    expect(run.out()).toMatch(/Ledger \(dynalite, in memory\)\s+http:\/\/127\.0\.0\.1:\d+\s+table /);
    const r = await fetch(`${url}/events`, {
      method: 'POST',
      body: readFileSync('local/events/sweep.json', 'utf8'),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ kind: 'sweep', coverage: { expected: 0, silent: [] } });
  });

  it('stops cleanly on SIGTERM', async () => {
    run.child.kill('SIGTERM');
    expect(await exitOf(run.child)).toBe(0);
    expect(run.out()).toContain('SIGTERM: stopping');
  }, 15_000);
});

describe('npm start on a taken port', () => {
  it('exits 1 at once with a message that names the port and how to change it', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const run = startLocal({ PORT: String(port) });
      expect(await exitOf(run.child)).toBe(1);
      expect(run.err()).toContain(`Port ${port} on 127.0.0.1 is already in use`);
      expect(run.err()).toContain('PORT=');
      expect(run.out()).not.toContain('Ready on');
    } finally {
      blocker.close();
    }
  }, 30_000);
});
