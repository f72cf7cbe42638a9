import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockstepRound, permutations } from '../../bench/lockstep.ts';
import { buildBundle } from '../../local/build-bundles.ts';

/**
 * The lockstep driver against the real bundled harness in session mode, with tiny handler modules
 * that write each call to a shared log (invocations never overlap, so the log's order is theirs).
 */

describe('permutations', () => {
  it('gives every ordering once, so each side runs first equally often', () => {
    const orders = permutations(['floor', 'guard', 'info']);
    expect(orders).toHaveLength(6);
    expect(new Set(orders.map((o) => o.join(','))).size).toBe(6);
    for (const side of ['floor', 'guard', 'info'])
      expect(orders.filter((o) => o[0] === side)).toHaveLength(2);
  });
});

describe('lockstepRound', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-lockstep-'));
  const log = path.join(dir, 'calls.log');
  let harness = '';

  /** Writes a handler module: it logs `<name> <item>` and answers as `body` says. */
  const handlerFile = (name: string, body: string): string => {
    const file = path.join(dir, `${name}.mjs`);
    writeFileSync(
      file,
      [
        "import { appendFileSync } from 'node:fs';",
        'export async function handler(event) {',
        `  const item = event.pathParameters?.id ?? event.detail?.requestParameters?.keyId ?? 'none';`,
        `  appendFileSync(${JSON.stringify(log)}, ${JSON.stringify(name)} + ' ' + item + '\\n');`,
        `  ${body}`,
        '}',
      ].join('\n'),
    );
    return file;
  };
  const cancelled = "return { statusCode: 200, body: JSON.stringify({ outcome: 'cancelled' }) };";

  beforeAll(async () => {
    harness = (await buildBundle('harness', 'bench/children/harness.ts', dir)).file;
  }, 60_000);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('invokes every side once per step, in every order in turn, each with its own items', async () => {
    writeFileSync(log, '');
    const sides = ['a', 'b', 'c'].map((name) => ({
      side: name,
      file: handlerFile(name, cancelled),
      env: {},
      items: [0, 1, 2, 3, 4, 5, 6].map((i) => `${name}${i}`),
    }));
    const got = await lockstepRound({ harness, kind: 'api', sides, warmup: 1, timeoutMs: 30_000 });
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls).toHaveLength(21);
    const orders = permutations(['a', 'b', 'c']);
    for (let step = 0; step < 7; step++) {
      const group = calls.slice(3 * step, 3 * step + 3);
      const order = orders[step % 6] as string[];
      expect(group).toEqual(order.map((name) => `${name} ${name}${step}`));
    }
    for (const name of ['a', 'b', 'c']) {
      const side = got[name] as (typeof got)[string];
      expect(side.samplesMs).toHaveLength(6);
      expect(side.reply.outcomes).toEqual({ 'warmup:cancelled': 1, cancelled: 6 });
      expect(side.reply.invocations).toBe(7);
      expect(side.reply.node).toBe(process.version);
    }
  }, 60_000);

  it('counts a remediation handler that throws as an error of that side, not a failed round', async () => {
    const event = (keyId: string) => ({ detail: { requestParameters: { keyId } } });
    const got = await lockstepRound({
      harness,
      kind: 'remediation',
      sides: [
        {
          side: 'ok',
          file: handlerFile('ok', 'return { summary: { cancelled: 1 } };'),
          env: {},
          items: [event('k1'), event('k2')],
        },
        {
          side: 'bad',
          file: handlerFile('bad', "throw new TypeError('no');"),
          env: {},
          items: [event('k3'), event('k4')],
        },
      ],
      warmup: 0,
      timeoutMs: 30_000,
    });
    expect(got.ok.reply.outcomes).toEqual({ cancelled: 2 });
    expect(got.ok.reply.errors).toBe(0);
    expect(got.bad.reply.outcomes).toEqual({ 'error:TypeError': 2 });
    expect(got.bad.reply.errors).toBe(2);
  }, 60_000);

  it('rejects, naming the cause, when an API handler throws', async () => {
    const round = lockstepRound({
      harness,
      kind: 'api',
      sides: [
        { side: 'ok', file: handlerFile('ok2', cancelled), env: {}, items: ['x1', 'x2'] },
        {
          side: 'bad',
          file: handlerFile('bad2', "throw new Error('handler broke');"),
          env: {},
          items: ['y1'],
        },
      ],
      warmup: 0,
      timeoutMs: 30_000,
    });
    await expect(round).rejects.toThrow(/handler broke/);
  }, 60_000);

  it('kills a child that overruns its timeout, so a hanging handler cannot hang the bench', async () => {
    const round = lockstepRound({
      harness,
      kind: 'api',
      sides: [
        { side: 'stuck', file: handlerFile('stuck', 'await new Promise(() => {});'), env: {}, items: ['z'] },
      ],
      warmup: 0,
      timeoutMs: 1_500,
    });
    await expect(round).rejects.toThrow(/killed after 1500 ms/);
  }, 60_000);

  it('rejects a module without a handler before any invocation', async () => {
    const file = path.join(dir, 'empty.mjs');
    writeFileSync(file, 'export const nothing = 1;\n');
    const round = lockstepRound({
      harness,
      kind: 'api',
      sides: [{ side: 'empty', file, env: {}, items: ['z'] }],
      warmup: 0,
      timeoutMs: 30_000,
    });
    await expect(round).rejects.toThrow(/exports no handler/);
  }, 60_000);
});
