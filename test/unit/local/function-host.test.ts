import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FunctionError, type FunctionHost, startFunctionHost } from '../../../local/function-host.ts';

// A stand-in bundle: reads its config at module load, like the real functions do.
const dir = mkdtempSync(join(tmpdir(), 'function-host-'));
const file = join(dir, 'index.mjs');
writeFileSync(
  file,
  `const loadedWith = process.env.GREETING;
let calls = 0;
export const handler = async (event, context) => {
  calls += 1;
  if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep));
  if (event.fail) { const e = new Error('boom'); e.name = 'UpstreamError'; throw e; }
  console.log(JSON.stringify({ level: 'INFO', message: 'hello' }));
  return { loadedWith, calls, remaining: context.getRemainingTimeInMillis(), name: context.functionName };
};`,
);

const hosts: FunctionHost[] = [];
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.close()));
});

describe('startFunctionHost', () => {
  it('loads the bundle with its own environment, stays warm, and forwards its output', async () => {
    let out = '';
    const host = await startFunctionHost(file, {
      functionName: 'fn',
      timeoutMs: 5000,
      env: { GREETING: 'hi' },
      onOutput: (c) => {
        out += c;
      },
    });
    hosts.push(host);
    expect(process.env.GREETING).toBeUndefined();
    const first = await host.invoke<{ loadedWith: string; calls: number; remaining: number; name: string }>(
      {},
    );
    const second = await host.invoke<{ calls: number }>({});
    expect(first).toMatchObject({ loadedWith: 'hi', calls: 1, name: 'fn' });
    expect(first.remaining).toBeGreaterThan(4000);
    expect(second.calls).toBe(2);
    expect(host.coldStarts).toBe(1);
    await expect.poll(() => out).toContain('"message":"hello"');
  });

  it('reports a thrown error by name and message', async () => {
    const host = await startFunctionHost(file, { functionName: 'fn', timeoutMs: 5000, env: {} });
    hosts.push(host);
    await expect(host.invoke({ fail: true })).rejects.toMatchObject({
      errorType: 'UpstreamError',
      message: 'boom',
    });
  });

  it('kills an invocation that outlives the timeout, and starts cold next time', async () => {
    const host = await startFunctionHost(file, { functionName: 'fn', timeoutMs: 300, env: {} });
    hosts.push(host);
    const err = await host.invoke({ sleep: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FunctionError);
    expect(err).toMatchObject({ errorType: 'Sandbox.Timedout' });
    expect(await host.invoke<{ calls: number }>({})).toMatchObject({ calls: 1 });
    expect(host.coldStarts).toBe(2);
  });

  it('refuses a bundle that does not exist', async () => {
    await expect(
      startFunctionHost(join(dir, 'missing.mjs'), { functionName: 'x', timeoutMs: 1, env: {} }),
    ).rejects.toThrow(/does not exist/);
  });
});
