import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildBundle, buildFunctionBundles } from '../../local/build-bundles.ts';
import { defaultSeed, generatePendingKeys, generateSimulatorTls } from '../../local/simulator/index.ts';
import { seededIds, startBackends } from '../backends.ts';
import { childEnv, runChild } from '../child.ts';
import { runWhenEntry } from '../cli.ts';
import { scheduleKeyDeletionEvent } from '../events.ts';
import { BENCH_BUILD_DIR } from '../measures/cold-import.ts';
import { median, quantile, round, table } from '../stats.ts';
import type { InterleavedReply, InterleavedRequest, InterleavedVariant } from './interleaved-child.ts';

/**
 * `npx tsx bench/attribution/run.ts [--path api|remediation|both] [--rounds N] [--iterations N]`:
 * where the guard's warm time over the floor goes, layer by layer. Runs the bench's warm children
 * (same harness, environment, heap and simulator as `npm run bench`) for the full handler, the floor,
 * and the handler with one more layer taken away each time (`api-variant.ts`,
 * `remediation-variant.ts`: throwaway entries, never deployed), all variants once per round in an
 * order that alternates between rounds. Prints, per variant, the pooled p50 and the median over rounds
 * of (variant p50 - floor p50 of the same round), in microseconds: differences between adjacent rows
 * are what a layer costs. Evidence for BENCHMARKS.md ("Misses: what costs the time"); not a test.
 */

interface Variant {
  readonly name: string;
  readonly file: string;
  readonly env: Readonly<Record<string, string>>;
}

interface Row {
  readonly samples: number[];
  readonly deltas: number[];
  readonly roundP50: number[];
  stdoutBytes: number;
  processes: number;
}

async function rounds(
  variants: readonly Variant[],
  rounds: number,
  run: (v: Variant) => Promise<{ samplesMs: readonly number[]; stdoutBytes: number; invocations: number }>,
  reset: () => void,
): Promise<Map<string, Row>> {
  const rows = new Map<string, Row>(
    variants.map((v) => [v.name, { samples: [], deltas: [], roundP50: [], stdoutBytes: 0, processes: 0 }]),
  );
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    const p50 = new Map<string, number>();
    for (const v of order) {
      reset();
      const { samplesMs, stdoutBytes, invocations } = await run(v);
      const row = rows.get(v.name);
      if (!row) throw new Error(v.name);
      row.samples.push(...samplesMs);
      row.stdoutBytes += stdoutBytes / invocations;
      row.processes++;
      p50.set(v.name, median(samplesMs));
      row.roundP50.push(median(samplesMs));
    }
    const floor = p50.get('floor') ?? Number.NaN;
    for (const v of variants) rows.get(v.name)?.deltas.push((p50.get(v.name) ?? Number.NaN) - floor);
    process.stderr.write(
      `[attribution] round ${r + 1}/${rounds}: ${variants.map((v) => `${v.name} ${round(p50.get(v.name) ?? 0, 3)}`).join(', ')}\n`,
    );
  }
  return rows;
}

function render(title: string, rows: Map<string, Row>): string {
  const floor = rows.get('floor');
  const floorP50 = floor ? median(floor.samples) : Number.NaN;
  return table(
    title,
    [...rows.entries()].map(([name, row]) => ({
      variant: name,
      p50Ms: round(median(row.samples), 4),
      p99Ms: round(quantile(row.samples, 0.99), 3),
      ratioP50: round(median(row.samples) / floorP50, 3),
      overFloorUs: round(1000 * median(row.deltas), 1),
      overFloorUsMinMax: `${round(1000 * Math.min(...row.deltas), 0)}..${round(1000 * Math.max(...row.deltas), 0)}`,
      stdoutBytesPerCall: round(row.stdoutBytes / row.processes, 0),
    })),
  );
}

/** Runs the interleaved child once: every variant in one process, invocations alternating. */
function interleavedChild(
  file: string,
  env: Readonly<Record<string, string>>,
  request: InterleavedRequest,
): Promise<{ reply: InterleavedReply; stdoutBytes: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], {
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let stdoutBytes = 0;
    let stderr = '';
    let reply: InterleavedReply | undefined;
    child.stdout?.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.on('message', (message: InterleavedReply) => {
      reply = message;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 900_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (reply) resolve({ reply, stdoutBytes });
      else reject(new Error(`interleaved child exited ${code}: ${stderr}`));
    });
    child.send(request);
  });
}

/** Pooled samples of each variant over `processes` interleaved processes, as a table against `floor`. */
async function interleaved(
  title: string,
  file: string,
  env: Readonly<Record<string, string>>,
  processes: number,
  build: () => InterleavedRequest,
  reset: () => void,
): Promise<string> {
  const pooled = new Map<string, number[]>();
  const perProcessDelta = new Map<string, number[]>();
  for (let p = 0; p < processes; p++) {
    reset();
    const request = build();
    const { reply } = await interleavedChild(file, env, request);
    const failed = Object.entries(reply.errors).filter(([, n]) => n > 0);
    if (failed.length > 0) throw new Error(`${title}: failures ${JSON.stringify(failed)}`);
    const floorP50 = median(reply.samples.floor ?? []);
    for (const v of request.variants) {
      const s = reply.samples[v.name] ?? [];
      pooled.set(v.name, [...(pooled.get(v.name) ?? []), ...s]);
      perProcessDelta.set(v.name, [...(perProcessDelta.get(v.name) ?? []), median(s) - floorP50]);
    }
    process.stderr.write(`[attribution] ${title}: process ${p + 1}/${processes} done\n`);
  }
  const floorP50 = median(pooled.get('floor') ?? []);
  return table(
    title,
    [...pooled.entries()].map(([name, s]) => {
      const d = perProcessDelta.get(name) ?? [];
      return {
        variant: name,
        p50Ms: round(median(s), 4),
        p99Ms: round(quantile(s, 0.99), 3),
        ratioP50: round(median(s) / floorP50, 3),
        overFloorUs: round(1000 * (median(s) - floorP50), 1),
        perProcessUs: d.map((x) => round(1000 * x, 0)).join(' / '),
      };
    }),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      path: { type: 'string', default: 'both' },
      rounds: { type: 'string', default: '6' },
      iterations: { type: 'string', default: '2000' },
      interleaved: { type: 'boolean', default: false },
      // `--compare label=DIR` (repeatable, with --interleaved): the function bundles built in DIR (by
      // `buildFunctionBundles`, e.g. from another commit) as one more variant each, for an A/B of two
      // builds; give the same build twice under two labels for the A/A control.
      compare: { type: 'string', multiple: true, default: [] },
      // With --compare: the floor and the compared builds only, without the layer variants.
      'compare-only': { type: 'boolean', default: false },
      // With --compare: the compared builds' POWERTOOLS_LOG_LEVEL (default: the bench's WARN).
      'compare-level': { type: 'string' },
    },
  });
  const compared = (fn: 'cancel-deletion' | 'remediate-deletion'): Omit<InterleavedVariant, 'items'>[] =>
    (values.compare ?? []).map((spec) => {
      const [label, dir] = spec.split('=');
      if (!label || !dir) throw new Error(`--compare wants label=DIR, got ${spec}`);
      const level = values['compare-level'];
      return {
        name: label,
        file: path.resolve(dir, fn, 'index.mjs'),
        env: (level ? { POWERTOOLS_LOG_LEVEL: level } : {}) as Record<string, string>,
      };
    });
  const n = Number(values.rounds);
  const iterations = Number(values.iterations);
  const dir = BENCH_BUILD_DIR;
  const bundles = await buildFunctionBundles(dir);
  const harness = (await buildBundle('harness', 'bench/children/harness.ts', dir)).file;
  const tls = await generateSimulatorTls();
  const { users } = defaultSeed();
  const out: string[] = [];

  if (values.interleaved) {
    const child = (await buildBundle('attr-interleaved', 'bench/attribution/interleaved-child.ts', dir)).file;
    const floorApi = (await buildBundle('floor-api', 'bench/children/floor-api.ts', dir)).file;
    const apiVariant = (await buildBundle('attr-api', 'bench/attribution/api-variant.ts', dir)).file;
    const floorRem = (await buildBundle('floor-remediation', 'bench/children/floor-remediation.ts', dir))
      .file;
    const remVariant = (
      await buildBundle('attr-remediation', 'bench/attribution/remediation-variant.ts', dir)
    ).file;
    const api = bundles['cancel-deletion'].file;
    const rem = bundles['remediate-deletion'].file;
    const INFO = { POWERTOOLS_LOG_LEVEL: 'INFO' };
    if (values.path !== 'remediation') {
      const floorSpec = { name: 'floor', file: floorApi, env: {} };
      const layers: Omit<InterleavedVariant, 'items'>[] = [
        { name: 'full (middy) WARN', file: api, env: {} },
        { name: 'no middy WARN', file: apiVariant, env: { ATTR_LAYER: 'direct' } },
        { name: 'no middy, no Logger calls', file: apiVariant, env: { ATTR_LAYER: 'nolog' } },
        { name: 'adapter only (2 CM calls)', file: apiVariant, env: { ATTR_LAYER: 'adapter' } },
        { name: 'full (middy) INFO', file: api, env: INFO },
        { name: 'no middy INFO', file: apiVariant, env: { ...INFO, ATTR_LAYER: 'direct' } },
        { name: 'no middy INFO, bare write', file: apiVariant, env: { ...INFO, ATTR_LAYER: 'bareline' } },
      ];
      const specs = [floorSpec, ...(values['compare-only'] ? [] : layers), ...compared('cancel-deletion')];
      const warmup = 200;
      const per = warmup + iterations;
      const backends = await startBackends({
        fn: 'cancel-deletion',
        keys: generatePendingKeys(per * specs.length, { prefix: 'attr-i' }),
        tls,
        users,
      });
      try {
        const ids = seededIds(backends);
        out.push(
          await interleaved(
            `Warm API, interleaved in one process (${n} processes x ${iterations} calls per variant)`,
            child,
            backends.env,
            n,
            () => ({
              kind: 'api',
              warmup,
              variants: specs.map((v, i) => ({ ...v, items: ids.slice(i * per, (i + 1) * per) })),
            }),
            () => backends.repend(ids),
          ),
        );
      } finally {
        await backends.close();
      }
    }
    if (values.path !== 'api') {
      const remLayers: Omit<InterleavedVariant, 'items'>[] = [
        { name: 'floor without SNS', file: floorRem, env: { NOTIFY_TOPIC_ARN: '' } },
        { name: 'full (middy) WARN', file: rem, env: {} },
        { name: 'full (middy) INFO', file: rem, env: INFO },
        { name: 'no middy INFO', file: remVariant, env: INFO },
        { name: 'no middy WARN', file: remVariant, env: {} },
        { name: 'no middy, no EMF', file: remVariant, env: { ATTR_OFF: 'emf' } },
        { name: 'no middy, no EMF, no SNS', file: remVariant, env: { ATTR_OFF: 'emf,sns' } },
        { name: 'no middy/EMF/SNS/Lambda ctx', file: remVariant, env: { ATTR_OFF: 'emf,sns,ctx' } },
        { name: 'adapter only (2 CM calls)', file: remVariant, env: { ATTR_OFF: 'domain' } },
      ];
      const specs = [
        { name: 'floor', file: floorRem, env: {} },
        ...(values['compare-only'] ? [] : remLayers),
        ...compared('remediate-deletion'),
      ];
      const warmup = 100;
      const count = Math.round(iterations / 4);
      const per = warmup + count;
      const keys = generatePendingKeys(per * specs.length, { prefix: 'attr-ir' });
      const backends = await startBackends({ fn: 'remediate-deletion', keys, tls, users });
      try {
        const ids = seededIds(backends);
        const events = keys.map(scheduleKeyDeletionEvent);
        out.push(
          await interleaved(
            `Warm remediation, interleaved in one process (${n} processes x ${count} events per variant)`,
            child,
            backends.env,
            n,
            () => ({
              kind: 'remediation',
              warmup,
              variants: specs.map((v, i) => ({ ...v, items: events.slice(i * per, (i + 1) * per) })),
            }),
            () => backends.repend(ids),
          ),
        );
      } finally {
        await backends.close();
      }
    }
    process.stdout.write(`${out.join('\n')}\n`);
    return;
  }

  if (values.path !== 'remediation') {
    const floorFile = (await buildBundle('floor-api', 'bench/children/floor-api.ts', dir)).file;
    const variantFile = (await buildBundle('attr-api', 'bench/attribution/api-variant.ts', dir)).file;
    const warmup = 200;
    const backends = await startBackends({
      fn: 'cancel-deletion',
      keys: generatePendingKeys(warmup + iterations, { prefix: 'attr' }),
      tls,
      users,
    });
    try {
      const ids = seededIds(backends);
      const warn = backends.env;
      const info = { ...warn, POWERTOOLS_LOG_LEVEL: 'INFO' };
      const api = bundles['cancel-deletion'].file;
      const variants: Variant[] = [
        { name: 'floor', file: floorFile, env: warn },
        { name: 'full (middy) WARN', file: api, env: warn },
        { name: 'no middy WARN', file: variantFile, env: { ...warn, ATTR_LAYER: 'direct' } },
        { name: 'no middy, no Logger calls', file: variantFile, env: { ...warn, ATTR_LAYER: 'nolog' } },
        { name: 'adapter only (2 CM calls)', file: variantFile, env: { ...warn, ATTR_LAYER: 'adapter' } },
        { name: 'full (middy) INFO', file: api, env: info },
        { name: 'no middy INFO', file: variantFile, env: { ...info, ATTR_LAYER: 'direct' } },
      ];
      const rows = await rounds(
        variants,
        n,
        async (v) => {
          const { reply, stdoutBytes } = await runChild(
            harness,
            { mode: 'warm', file: v.file, warmupIds: ids.slice(0, warmup), ids: ids.slice(warmup) },
            v.env,
            'warm',
            600_000,
          );
          const cancelled = reply.outcomes.cancelled ?? 0;
          if (cancelled !== iterations) throw new Error(`${v.name}: ${cancelled} of ${iterations} cancelled`);
          return { samplesMs: reply.samplesMs, stdoutBytes, invocations: warmup + iterations };
        },
        () => backends.repend(ids),
      );
      out.push(render(`Warm API attribution (${n} rounds x ${iterations} calls per variant)`, rows));
    } finally {
      await backends.close();
    }
  }

  if (values.path !== 'api') {
    const floorFile = (await buildBundle('floor-remediation', 'bench/children/floor-remediation.ts', dir))
      .file;
    const variantFile = (
      await buildBundle('attr-remediation', 'bench/attribution/remediation-variant.ts', dir)
    ).file;
    const warmup = 100;
    const count = Math.round(iterations / 2);
    const keys = generatePendingKeys(warmup + count, { prefix: 'attr-remediation' });
    const backends = await startBackends({ fn: 'remediate-deletion', keys, tls, users });
    try {
      const ids = seededIds(backends);
      const events = keys.map(scheduleKeyDeletionEvent);
      const warn = backends.env;
      const info = { ...warn, POWERTOOLS_LOG_LEVEL: 'INFO' };
      const { NOTIFY_TOPIC_ARN: _topic, ...noTopic } = warn;
      const file = bundles['remediate-deletion'].file;
      const variants: Variant[] = [
        { name: 'floor', file: floorFile, env: warn },
        { name: 'floor without SNS', file: floorFile, env: noTopic },
        { name: 'full (middy) WARN', file, env: warn },
        { name: 'full (middy) INFO', file, env: info },
        { name: 'no middy INFO', file: variantFile, env: info },
        { name: 'no middy WARN', file: variantFile, env: warn },
        { name: 'no middy, no audit', file: variantFile, env: { ...warn, ATTR_OFF: 'audit' } },
        { name: 'no middy, no audit, no EMF', file: variantFile, env: { ...warn, ATTR_OFF: 'audit,emf' } },
        {
          name: 'no middy, audit, EMF, SNS off',
          file: variantFile,
          env: { ...warn, ATTR_OFF: 'audit,emf,sns' },
        },
      ];
      const rows = await rounds(
        variants,
        n,
        async (v) => {
          const { reply, stdoutBytes } = await runChild(
            harness,
            {
              mode: 'remediation-warm',
              file: v.file,
              warmupEvents: events.slice(0, warmup),
              events: events.slice(warmup),
            },
            v.env,
            'remediation-warm',
            600_000,
          );
          const cancelled = reply.outcomes.cancelled ?? 0;
          if (cancelled !== count || reply.errors > 0) {
            throw new Error(`${v.name}: ${cancelled} of ${count} cancelled, ${reply.errors} errors`);
          }
          return { samplesMs: reply.samplesMs, stdoutBytes, invocations: warmup + count };
        },
        () => backends.repend(ids),
      );
      out.push(render(`Warm remediation attribution (${n} rounds x ${count} events per variant)`, rows));
    } finally {
      await backends.close();
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

runWhenEntry(import.meta.url, 'attribution', main);
