import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { FunctionName } from '../infra/bundling.ts';
import { buildBundle, buildFunctionBundles } from '../local/build-bundles.ts';
import { defaultSeed, generateSimulatorTls } from '../local/simulator/index.ts';
import { BENCH_SECRET_ID } from './backends.ts';
import { killChildren } from './child.ts';
import { lambdaProcessEnv } from './lambda-heap.ts';
import {
  BENCH_BUILD_DIR,
  buildFloor,
  bundleFigures,
  type ColdImportFigures,
  coldImportRatio,
} from './measures/cold-import.ts';
import { coldInvoke } from './measures/cold-invoke.ts';
import { remediationOverhead } from './measures/remediation-overhead.ts';
import { sweepScaling } from './measures/sweep-scaling.ts';
import { tokenEconomy } from './measures/token-economy.ts';
import { warmOverhead } from './measures/warm-overhead.ts';
import { type BenchResults, type BenchSettings, evaluateTargets, renderReport } from './report.ts';
import { round } from './stats.ts';

/**
 * `npm run bench`: every measure of issue 6 in one run, each against its floor, printed as tables
 * (or, with `--json`, as one JSON object on stdout; `--save FILE` also writes that JSON to FILE).
 * `--quick` shrinks every size for the smoke test.
 * Progress goes to stderr. Everything listens on 127.0.0.1 only, and a watchdog ends a run that hangs.
 */

const FULL: BenchSettings = {
  quick: false,
  coldImportRuns: 20,
  coldInvokeRuns: 10,
  // Lockstep rounds (bench/lockstep.ts): what is left of the spread between rounds is the processes' own,
  // so six process sets of 1,000 (500) timed invocations average it better than three of 2,000 (1,000),
  // in about the same time.
  warmIterations: 1000,
  warmWarmup: 200,
  warmRounds: 6,
  remediationIterations: 500,
  remediationWarmup: 100,
  remediationRounds: 6,
  burstEvents: 1000,
  burstConcurrency: 50,
  sweepSizes: [10, 100, 1000, 10_000],
  logLevel: 'WARN',
};

const QUICK: BenchSettings = {
  quick: true,
  coldImportRuns: 2,
  coldInvokeRuns: 2,
  warmIterations: 40,
  warmWarmup: 5,
  warmRounds: 2,
  remediationIterations: 20,
  remediationWarmup: 3,
  remediationRounds: 2,
  burstEvents: 40,
  burstConcurrency: 10,
  sweepSizes: [10, 120],
  logLevel: 'WARN',
};

const WATCHDOG_MS = 20 * 60_000;

/** Environment of the cold-import children: what a deployed function has, so module scope builds its clients. */
const IMPORT_ENV: Readonly<Record<string, string>> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_SESSION_TOKEN: 'test',
  CCKM_URL: 'https://127.0.0.1:8443',
  CCKM_SECRET_ID: BENCH_SECRET_ID,
  NOTIFY_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:cckm-deletion-guard-bench',
  POWERTOOLS_LOG_LEVEL: 'WARN',
  POWERTOOLS_SERVICE_NAME: 'cckm-deletion-guard',
  POWERTOOLS_METRICS_NAMESPACE: 'CckmDeletionGuard',
};

function machine(): BenchResults['machine'] {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    date: new Date().toISOString(),
  };
}

/** Runs every measure with the given settings and returns the results. */
export async function runBench(
  settings: BenchSettings,
  progress: (line: string) => void = () => undefined,
  buildDir: string = BENCH_BUILD_DIR,
): Promise<BenchResults> {
  const started = performance.now();
  progress('building the function bundles, their floors and the bench children');
  const bundles = await buildFunctionBundles(buildDir);
  const names = Object.keys(bundles) as FunctionName[];
  const floors = Object.fromEntries(
    await Promise.all(names.map(async (name) => [name, await buildFloor(bundles[name], buildDir)] as const)),
  ) as Record<FunctionName, Awaited<ReturnType<typeof buildFloor>>>;
  const harness = (await buildBundle('harness', 'bench/children/harness.ts', buildDir)).file;
  const floorApi = (await buildBundle('floor-api', 'bench/children/floor-api.ts', buildDir)).file;
  const floorRemediation = (
    await buildBundle('floor-remediation', 'bench/children/floor-remediation.ts', buildDir)
  ).file;
  const tls = await generateSimulatorTls();
  const { users } = defaultSeed();

  const bundleBytes = {} as BenchResults['bundleBytes'];
  const floorBundleBytes = {} as BenchResults['floorBundleBytes'];
  const coldImport = {} as Record<FunctionName, ColdImportFigures>;
  for (const name of names) {
    const sizes = await bundleFigures(bundles[name], floors[name]);
    bundleBytes[name] = { minified: sizes.bundleBytes, gzip: sizes.bundleGzipBytes };
    floorBundleBytes[name] = { minified: sizes.floorBundleBytes, gzip: sizes.floorBundleGzipBytes };
    progress(`cold import of ${name}: ${settings.coldImportRuns} alternating runs`);
    coldImport[name] = await coldImportRatio(harness, bundles[name], floors[name], settings.coldImportRuns, {
      ...IMPORT_ENV,
      ...lambdaProcessEnv(name),
    });
  }

  progress(`cold invoke: ${settings.coldInvokeRuns} alternating runs`);
  const cold = await coldInvoke({
    harness,
    guardFile: bundles['cancel-deletion'].file,
    floorFile: floorApi,
    runs: settings.coldInvokeRuns,
    tls,
    users,
  });

  progress(
    `warm: ${settings.warmIterations} invocations x ${settings.warmRounds} rounds x 3 processes in lockstep`,
  );
  const warm = await warmOverhead({
    harness,
    guardFile: bundles['cancel-deletion'].file,
    floorFile: floorApi,
    iterations: settings.warmIterations,
    warmup: settings.warmWarmup,
    rounds: settings.warmRounds,
    tls,
    users,
  });

  progress(
    `remediation: ${settings.remediationIterations} ScheduleKeyDeletion events x ${settings.remediationRounds} rounds x 2 processes in lockstep`,
  );
  const remediation = await remediationOverhead({
    harness,
    guardFile: bundles['remediate-deletion'].file,
    floorFile: floorRemediation,
    iterations: settings.remediationIterations,
    warmup: settings.remediationWarmup,
    rounds: settings.remediationRounds,
    tls,
    users,
  });

  progress(`token economy: ${settings.burstEvents} events at concurrency ${settings.burstConcurrency}`);
  const burst = await tokenEconomy({
    harness,
    guardFile: bundles['remediate-deletion'].file,
    events: settings.burstEvents,
    concurrency: settings.burstConcurrency,
    tls,
    users,
  });

  const sweep = await sweepScaling(
    { harness, guardFile: bundles['remediate-deletion'].file, sizes: settings.sweepSizes, tls, users },
    progress,
  );
  const largest = sweep.rows.at(-1);

  const partial = {
    machine: machine(),
    settings,
    bundleBytes,
    floorBundleBytes,
    coldImportRatio: Object.fromEntries(names.map((n) => [n, coldImport[n].ratio])) as Record<
      FunctionName,
      number
    >,
    coldImport,
    coldInvokeRatio: cold.ratio,
    coldInvoke: cold,
    warmOverheadRatio: warm.ratio,
    warmOverheadRatioInfo: warm.ratioInfoLogging,
    warm,
    remediationOverheadRatio: remediation.ratio,
    remediation,
    tokenEconomy: burst,
    sweep: sweep.rows,
    sweepGrowth: sweep.growth,
    peakRssMb: { warm: warm.peakRssMb, sweep: largest?.peakRssMb ?? 0, sweepKeys: largest?.keys ?? 0 },
  };
  return {
    ...partial,
    targets: evaluateTargets(partial),
    durationSec: round((performance.now() - started) / 1000, 1),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      // The tables on stdout and the JSON in a file, from one run.
      save: { type: 'string' },
      // Where bundles go (default .build/bench); the smoke test builds into a temporary directory.
      'build-dir': { type: 'string' },
    },
  });
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: still running after ${WATCHDOG_MS / 60_000} minutes; stopping\n`);
    killChildren();
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();
  const results = await runBench(
    values.quick ? QUICK : FULL,
    (line) => process.stderr.write(`[bench] ${line}\n`),
    values['build-dir'] ? path.resolve(values['build-dir']) : BENCH_BUILD_DIR,
  );
  const json = `${JSON.stringify(results, null, 2)}\n`;
  if (values.save) await writeFile(values.save, json);
  process.stdout.write(values.json ? json : renderReport(results));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    killChildren();
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
