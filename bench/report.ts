import type { FunctionName } from '../infra/bundling.ts';
import type { ColdImportFigures } from './measures/cold-import.ts';
import type { ColdInvokeFigures } from './measures/cold-invoke.ts';
import type { SweepGrowth, SweepRow } from './measures/sweep-scaling.ts';
import type { TokenEconomyFigures } from './measures/token-economy.ts';
import type { WarmFigures } from './measures/warm-overhead.ts';
import { round, table } from './stats.ts';

/** Everything one bench run measured; `npm run bench -- --json` prints this object. */
export interface BenchResults {
  readonly machine: MachineInfo;
  readonly settings: BenchSettings;
  readonly bundleBytes: Record<FunctionName, { minified: number; gzip: number }>;
  readonly floorBundleBytes: Record<FunctionName, { minified: number; gzip: number }>;
  readonly coldImportRatio: Record<FunctionName, number>;
  readonly coldImport: Record<FunctionName, ColdImportFigures>;
  readonly coldInvokeRatio: number;
  readonly coldInvoke: ColdInvokeFigures;
  readonly warmOverheadRatio: { readonly p50: number; readonly p99: number };
  readonly warm: WarmFigures;
  readonly tokenEconomy: TokenEconomyFigures;
  readonly sweep: readonly SweepRow[];
  readonly sweepGrowth: readonly SweepGrowth[];
  readonly peakRssMb: { readonly warm: number; readonly sweep: number; readonly sweepKeys: number };
  readonly targets: readonly TargetRow[];
  readonly durationSec: number;
}

/** Where the figures came from. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly date: string;
}

/** Sizes a run used (`--quick` shrinks them). */
export interface BenchSettings {
  readonly quick: boolean;
  readonly coldImportRuns: number;
  readonly coldInvokeRuns: number;
  readonly warmIterations: number;
  readonly warmWarmup: number;
  readonly warmRounds: number;
  readonly burstEvents: number;
  readonly burstConcurrency: number;
  readonly sweepSizes: readonly number[];
  readonly logLevel: 'WARN';
}

/** PASS / MISS against a target of issue 6; INFO for a figure that has none. */
export type Status = 'PASS' | 'MISS' | 'INFO';

/** One figure next to its target. */
export interface TargetRow {
  readonly measure: string;
  readonly value: number;
  readonly target: string;
  readonly status: Status;
}

/** Target of the bundle size: the project's own code and wiring add at most this over the floor. */
export const OWN_BYTES_LIMIT = 60 * 1024;
const COLD_IMPORT_LIMIT = 1.1;
const WARM_P50_LIMIT = 1.05;
const WARM_P99_LIMIT = 1.15;
const SWEEP_RSS_LIMIT_MB = 256;
/** "Time linear in keys": per-key time may not grow by more than half from one size to the next. */
export const LINEAR_SLACK = 1.5;

const status = (pass: boolean): Status => (pass ? 'PASS' : 'MISS');

/** Every figure with a target (and the headline ones without), evaluated. */
export function evaluateTargets(r: Omit<BenchResults, 'targets' | 'durationSec'>): TargetRow[] {
  const rows: TargetRow[] = [];
  for (const [name, b] of Object.entries(r.bundleBytes) as [FunctionName, { minified: number }][]) {
    const floor = r.floorBundleBytes[name].minified;
    rows.push({
      measure: `bundleBytes ${name} - floor`,
      value: b.minified - floor,
      target: `<= ${OWN_BYTES_LIMIT} (60 KB)`,
      status: status(b.minified - floor <= OWN_BYTES_LIMIT),
    });
  }
  for (const [name, ratio] of Object.entries(r.coldImportRatio) as [FunctionName, number][]) {
    rows.push({
      measure: `coldImportRatio ${name}`,
      value: ratio,
      target: `<= ${COLD_IMPORT_LIMIT}`,
      status: status(ratio <= COLD_IMPORT_LIMIT),
    });
  }
  rows.push({ measure: 'coldInvokeRatio', value: r.coldInvokeRatio, target: 'none set', status: 'INFO' });
  rows.push({
    measure: 'warmOverheadRatio p50',
    value: r.warmOverheadRatio.p50,
    target: `<= ${WARM_P50_LIMIT}`,
    status: status(r.warmOverheadRatio.p50 <= WARM_P50_LIMIT),
  });
  rows.push({
    measure: 'warmOverheadRatio p99',
    value: r.warmOverheadRatio.p99,
    target: `<= ${WARM_P99_LIMIT}`,
    status: status(r.warmOverheadRatio.p99 <= WARM_P99_LIMIT),
  });
  const t = r.tokenEconomy;
  rows.push({
    measure: `secretReads (${t.events} events)`,
    value: t.secretReads,
    target: `${t.tokenLifetimes} (1 per token lifetime)`,
    status: status(t.secretReads === t.tokenLifetimes),
  });
  rows.push({
    measure: `tokenGrants (${t.events} events)`,
    value: t.tokenGrants,
    target: `${t.tokenLifetimes} (1 per token lifetime)`,
    status: status(t.tokenGrants === t.tokenLifetimes),
  });
  rows.push({
    measure: `socketsOpened (${t.events} events)`,
    value: t.socketsOpened,
    target: `<= ${t.connectionLimit} (Agent connections)`,
    status: status(t.socketsOpened <= t.connectionLimit),
  });
  rows.push({
    measure: 'cckmRequestsPerEvent',
    value: t.cckmRequestsPerEvent,
    target: 'none set',
    status: 'INFO',
  });
  for (const row of r.sweep) {
    rows.push({
      measure: `sweep ${row.keys} keys: CM requests`,
      value: row.cckmRequests,
      target: `= ${row.expectedRequests} (pages ${row.minimumPages} + cancels + enables + grants)`,
      status: status(row.cckmRequests === row.expectedRequests && row.pages === row.minimumPages),
    });
  }
  for (const g of r.sweepGrowth) {
    rows.push({
      measure: `sweep time ${g.fromKeys} -> ${g.toKeys} keys`,
      value: g.timeFactor,
      target: `<= ${round(g.keysFactor * LINEAR_SLACK, 2)} (linear: keys x${g.keysFactor}, slack ${LINEAR_SLACK})`,
      status: status(g.timeFactor <= g.keysFactor * LINEAR_SLACK),
    });
  }
  rows.push({
    measure: `peak RSS MiB, sweep of ${r.peakRssMb.sweepKeys} keys`,
    value: r.peakRssMb.sweep,
    target: `< ${SWEEP_RSS_LIMIT_MB}`,
    status: status(r.peakRssMb.sweep < SWEEP_RSS_LIMIT_MB),
  });
  rows.push({
    measure: 'peak RSS MiB, warm API run',
    value: r.peakRssMb.warm,
    target: 'none set (memorySize 512)',
    status: 'INFO',
  });
  return rows;
}

const kb = (bytes: number) => round(bytes / 1024, 1);

/** The human report: one table per measure, each figure next to its target. */
export function renderReport(r: BenchResults): string {
  const find = (prefix: string) => r.targets.filter((t) => t.measure.startsWith(prefix));
  const targetCells = (row: TargetRow | undefined) => ({
    target: row?.target ?? '',
    status: row?.status ?? 'INFO',
  });
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `CCKM Deletion Guard benchmarks${r.settings.quick ? ' (--quick: tiny sizes, figures are not meaningful)' : ''}`,
    `machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; ${m.date}; ${r.durationSec} s`,
    `functions log at POWERTOOLS_LOG_LEVEL=${r.settings.logLevel} unless a row says otherwise`,
    '',
  );
  out.push(
    table(
      '1. Bundle size (bytes; floor = same third-party imports, same esbuild options, nothing else)',
      (Object.keys(r.bundleBytes) as FunctionName[]).map((name) => {
        const b = r.bundleBytes[name];
        const f = r.floorBundleBytes[name];
        return {
          function: name,
          minified: b.minified,
          gzip: b.gzip,
          floorMinified: f.minified,
          floorGzip: f.gzip,
          ownKB: kb(b.minified - f.minified),
          ...targetCells(find(`bundleBytes ${name}`)[0]),
        };
      }),
    ),
  );
  out.push(
    table(
      `2. Cold import (median ms in a fresh process, ${r.settings.coldImportRuns} alternating runs each)`,
      (Object.keys(r.coldImport) as FunctionName[]).map((name) => {
        const c = r.coldImport[name];
        return {
          function: name,
          bundleMs: c.bundleMs,
          floorMs: c.floorMs,
          coldImportRatio: c.ratio,
          minRatio: c.minRatio,
          ...targetCells(find(`coldImportRatio ${name}`)[0]),
        };
      }),
    ),
  );
  const ci = r.coldInvoke;
  out.push(
    table(
      `3. Cold invoke: fresh process, import + first POST /keys/{id}/cancel-deletion (median of ${ci.runs} runs each)`,
      [
        {
          guardMs: ci.guardMs,
          floorMs: ci.floorMs,
          guardImportMs: ci.guardImportMs,
          floorImportMs: ci.floorImportMs,
          secretReadsPerRun: ci.guardSecretReadsPerRun,
          tokenGrantsPerRun: ci.guardTokenGrantsPerRun,
          coldInvokeRatio: ci.ratio,
          ...targetCells(find('coldInvokeRatio')[0]),
        },
      ],
    ),
  );
  const w = r.warm;
  out.push(
    table(
      `4. Warm API invocations (${w.iterations} per process x ${w.rounds} rounds; GET key + cancel on a pending key)`,
      [
        {
          side: 'floor (bare undici)',
          p50Ms: w.floor.p50Ms,
          p99Ms: w.floor.p99Ms,
          logBytesPerCall: w.floor.logBytesPerInvocation,
          ratio: '',
          target: '',
          status: '',
        },
        {
          side: 'guard, log WARN',
          p50Ms: w.guard.p50Ms,
          p99Ms: w.guard.p99Ms,
          logBytesPerCall: w.guard.logBytesPerInvocation,
          ratio: '',
          target: '',
          status: '',
        },
        {
          side: 'guard, log INFO',
          p50Ms: w.guardInfoLogging.p50Ms,
          p99Ms: w.guardInfoLogging.p99Ms,
          logBytesPerCall: w.guardInfoLogging.logBytesPerInvocation,
          ratio: '',
          target: '',
          status: '',
        },
        {
          side: 'warmOverheadRatio p50',
          p50Ms: '',
          p99Ms: '',
          logBytesPerCall: '',
          ratio: w.ratio.p50,
          ...targetCells(find('warmOverheadRatio p50')[0]),
        },
        {
          side: 'warmOverheadRatio p99',
          p50Ms: '',
          p99Ms: '',
          logBytesPerCall: '',
          ratio: w.ratio.p99,
          ...targetCells(find('warmOverheadRatio p99')[0]),
        },
        {
          side: 'ratio p50, log INFO',
          p50Ms: '',
          p99Ms: '',
          logBytesPerCall: '',
          ratio: w.ratioInfoLogging.p50,
          target: 'none set',
          status: 'INFO',
        },
        {
          side: 'ratio p99, log INFO',
          p50Ms: '',
          p99Ms: '',
          logBytesPerCall: '',
          ratio: w.ratioInfoLogging.p99,
          target: 'none set',
          status: 'INFO',
        },
      ],
    ),
  );
  out.push(
    table(
      '4b. Warm ratio of each round alone (guard WARN ÷ floor; the pooled ratio above is the one judged)',
      w.perRound.map((pr, i) => ({ round: i + 1, p50: pr.p50, p99: pr.p99 })),
    ),
  );
  const t = r.tokenEconomy;
  out.push(
    table(
      `5. Token economy: ${t.events} ScheduleKeyDeletion events at concurrency ${t.concurrency} in one process (${t.wallMs} ms)`,
      [
        { figure: 'secretReads', value: t.secretReads, ...targetCells(find('secretReads')[0]) },
        { figure: 'tokenGrants', value: t.tokenGrants, ...targetCells(find('tokenGrants')[0]) },
        { figure: 'socketsOpened', value: t.socketsOpened, ...targetCells(find('socketsOpened')[0]) },
        {
          figure: 'cckmRequestsPerEvent',
          value: t.cckmRequestsPerEvent,
          ...targetCells(find('cckmRequestsPerEvent')[0]),
        },
      ],
    ),
  );
  out.push(
    table(
      '6. Sweep scaling (fresh simulator seed per size; one scheduled sweep in a fresh process)',
      r.sweep.map((s) => ({
        keys: s.keys,
        wallMs: s.wallMs,
        simListMs: s.simListMs,
        requests: s.cckmRequests,
        pages: s.pages,
        gets: s.gets,
        cancels: s.cancels,
        enables: s.enables,
        grants: s.tokenGrants,
        expected: s.expectedRequests,
        rssMiB: s.peakRssMb,
        ...targetCells(find(`sweep ${s.keys} keys`)[0]),
      })),
    ),
  );
  out.push(
    table(
      '6b. Sweep growth between sizes',
      r.sweepGrowth.map((g) => ({
        from: g.fromKeys,
        to: g.toKeys,
        keysFactor: g.keysFactor,
        timeFactor: g.timeFactor,
        requestsFactor: g.requestsFactor,
        ...targetCells(find(`sweep time ${g.fromKeys} -> ${g.toKeys}`)[0]),
      })),
    ),
  );
  out.push(
    table('7. Peak RSS (MiB, process.resourceUsage().maxRSS of the child)', [
      { run: 'warm API run', peakRssMiB: r.peakRssMb.warm, ...targetCells(find('peak RSS MiB, warm')[0]) },
      {
        run: `sweep of ${r.peakRssMb.sweepKeys} keys`,
        peakRssMiB: r.peakRssMb.sweep,
        ...targetCells(find('peak RSS MiB, sweep')[0]),
      },
    ]),
  );
  const misses = r.targets.filter((row) => row.status === 'MISS');
  out.push(
    misses.length === 0
      ? 'Every target met.'
      : `Targets missed (${misses.length}): ${misses.map((row) => `${row.measure} = ${row.value} (target ${row.target})`).join('; ')}`,
    '',
  );
  return out.join('\n');
}
