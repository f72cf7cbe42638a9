import type { FunctionName } from '../infra/bundling.ts';
import type { ColdImportFigures } from './measures/cold-import.ts';
import type { ColdInvokeFigures } from './measures/cold-invoke.ts';
import type { RemediationFigures } from './measures/remediation-overhead.ts';
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
  /** The warm API ratio with POWERTOOLS_LOG_LEVEL=INFO, what production runs. */
  readonly warmOverheadRatioInfo: { readonly p50: number; readonly p99: number };
  readonly warm: WarmFigures;
  /** One ScheduleKeyDeletion event through the warm remediation handler ÷ bare undici + SDK. */
  readonly remediationOverheadRatio: { readonly p50: number; readonly p99: number };
  readonly remediation: RemediationFigures;
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
  readonly remediationIterations: number;
  readonly remediationWarmup: number;
  readonly remediationRounds: number;
  readonly burstEvents: number;
  readonly burstConcurrency: number;
  readonly sweepSizes: readonly number[];
  readonly logLevel: 'WARN';
}

/** PASS / MISS against a target of issues 6 and 14; INFO for a figure that has none. */
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
// Targets of issue 14 (tighter than issue 6's 1.10 cold import and 1.15 warm p99).
const COLD_IMPORT_LIMIT = 1.05;
const COLD_INVOKE_LIMIT = 1.15;
const WARM_P50_LIMIT = 1.05;
const WARM_P99_LIMIT = 1.1;
const WARM_INFO_P50_LIMIT = 1.1;
const REMEDIATION_P50_LIMIT = 1.1;
const REMEDIATION_P99_LIMIT = 1.2;
const SWEEP_RSS_LIMIT_MB = 256;
/** Ledger targets: reads in batches of 100 keys, writes in batches of 25, one digest per sweep. */
const LEDGER_READ_BATCH = 100;
const LEDGER_WRITE_BATCH = 25;
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
  rows.push({
    measure: 'coldInvokeRatio',
    value: r.coldInvokeRatio,
    target: `<= ${COLD_INVOKE_LIMIT}`,
    status: status(r.coldInvokeRatio <= COLD_INVOKE_LIMIT),
  });
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
  rows.push({
    measure: 'warmOverheadRatioInfo p50',
    value: r.warmOverheadRatioInfo.p50,
    target: `<= ${WARM_INFO_P50_LIMIT}`,
    status: status(r.warmOverheadRatioInfo.p50 <= WARM_INFO_P50_LIMIT),
  });
  rows.push({
    measure: 'warmOverheadRatioInfo p99',
    value: r.warmOverheadRatioInfo.p99,
    target: 'none set',
    status: 'INFO',
  });
  rows.push({
    measure: 'remediationOverheadRatio p50',
    value: r.remediationOverheadRatio.p50,
    target: `<= ${REMEDIATION_P50_LIMIT}`,
    status: status(r.remediationOverheadRatio.p50 <= REMEDIATION_P50_LIMIT),
  });
  rows.push({
    measure: 'remediationOverheadRatio p99',
    value: r.remediationOverheadRatio.p99,
    target: `<= ${REMEDIATION_P99_LIMIT}`,
    status: status(r.remediationOverheadRatio.p99 <= REMEDIATION_P99_LIMIT),
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
  rows.push(...ledgerTargets(r.sweep));
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
    target: `<= ${SWEEP_RSS_LIMIT_MB} (Lambda heap of 512 MB)`,
    status: status(r.peakRssMb.sweep <= SWEEP_RSS_LIMIT_MB),
  });
  rows.push({
    measure: 'peak RSS MiB, warm API run',
    value: r.peakRssMb.warm,
    target: 'none set (memorySize 512)',
    status: 'INFO',
  });
  return rows;
}

/** DynamoDB operations that read and that write, as the counting endpoint names them. */
const LEDGER_READS = ['BatchGetItem', 'GetItem', 'Query', 'Scan'];
const LEDGER_WRITES = ['BatchWriteItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems'];

const sumOf = (calls: Readonly<Record<string, number>>, ops: readonly string[]) =>
  ops.reduce((sum, op) => sum + (calls[op] ?? 0), 0);

/** Issue 14's ledger targets per sweep size; none until the sweep rows carry `ledgerCalls`. */
function ledgerTargets(sweep: readonly SweepRow[]): TargetRow[] {
  return sweep.flatMap((row) => {
    if (!row.ledgerCalls) return [];
    const reads = sumOf(row.ledgerCalls, LEDGER_READS);
    const writes = sumOf(row.ledgerCalls, LEDGER_WRITES);
    // Plus the one Query that reads every spoke's heartbeat.
    const maxReads = Math.ceil(row.keys / LEDGER_READ_BATCH) + 1;
    const maxWrites = Math.ceil(row.keys / LEDGER_WRITE_BATCH);
    return [
      {
        measure: `sweep ${row.keys} keys: ledger reads`,
        value: reads,
        target: `<= ${maxReads} (BatchGetItem per 100 keys + 1 heartbeat Query)`,
        status: status(reads <= maxReads),
      },
      {
        measure: `sweep ${row.keys} keys: ledger writes`,
        value: writes,
        target: `<= ${maxWrites} (BatchWriteItem per 25 keys)`,
        status: status(writes <= maxWrites),
      },
      {
        measure: `sweep ${row.keys} keys: SNS publishes`,
        value: row.notificationsPublished,
        target: '<= 1 (one digest)',
        status: status(row.notificationsPublished <= 1),
      },
    ];
  });
}

const kb = (bytes: number) => round(bytes / 1024, 1);

/** Cells of a remediation side; empty cells for a ratio row. */
function remediationCells(side?: RemediationFigures['guard']) {
  return {
    p50Ms: side?.p50Ms ?? '',
    p99Ms: side?.p99Ms ?? '',
    cmRequestsPerEvent: side?.cckmRequestsPerEvent ?? '',
    publishesPerEvent: side?.publishesPerEvent ?? '',
  };
}

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
      `4. Warm API invocations (${w.iterations} per process x ${w.rounds} rounds, sides in lockstep; GET key + cancel on a pending key)`,
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
          side: 'warmOverheadRatioInfo p50',
          p50Ms: '',
          p99Ms: '',
          logBytesPerCall: '',
          ratio: r.warmOverheadRatioInfo.p50,
          ...targetCells(find('warmOverheadRatioInfo p50')[0]),
        },
        {
          side: 'warmOverheadRatioInfo p99',
          p50Ms: '',
          p99Ms: '',
          logBytesPerCall: '',
          ratio: r.warmOverheadRatioInfo.p99,
          ...targetCells(find('warmOverheadRatioInfo p99')[0]),
        },
      ],
    ),
  );
  out.push(
    table(
      '4b. Warm ratio of each round (process set) alone (guard WARN ÷ floor; the pooled ratio above is the one judged)',
      w.perRound.map((pr, i) => ({ round: i + 1, p50: pr.p50, p99: pr.p99 })),
    ),
  );
  const rm = r.remediation;
  out.push(
    table(
      `4c. Remediation: one ScheduleKeyDeletion event at a time, warm (${rm.iterations} per process x ${rm.rounds} rounds, sides in lockstep; lookup + cancel + 1 SNS message)`,
      [
        {
          side: 'floor (bare undici + SDK)',
          ...remediationCells(rm.floor),
          ratio: '',
          target: '',
          status: '',
        },
        { side: 'guard, log WARN', ...remediationCells(rm.guard), ratio: '', target: '', status: '' },
        {
          side: 'remediationOverheadRatio p50',
          ...remediationCells(),
          ratio: rm.ratio.p50,
          ...targetCells(find('remediationOverheadRatio p50')[0]),
        },
        {
          side: 'remediationOverheadRatio p99',
          ...remediationCells(),
          ratio: rm.ratio.p99,
          ...targetCells(find('remediationOverheadRatio p99')[0]),
        },
      ],
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
        publishes: s.notificationsPublished,
        ledger: s.ledgerCalls
          ? Object.entries(s.ledgerCalls)
              .map(([op, n]) => `${op} ${n}`)
              .join(', ')
          : 'no ledger',
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
    table(
      '7. Peak RSS (MiB, process.resourceUsage().maxRSS of the child, heap as Lambda sizes it for 512 MB)',
      [
        { run: 'warm API run', peakRssMiB: r.peakRssMb.warm, ...targetCells(find('peak RSS MiB, warm')[0]) },
        {
          run: `sweep of ${r.peakRssMb.sweepKeys} keys`,
          peakRssMiB: r.peakRssMb.sweep,
          ...targetCells(find('peak RSS MiB, sweep')[0]),
        },
      ],
    ),
  );
  const ledgerRows = r.targets.filter((row) => / keys: (ledger|SNS)/.test(row.measure));
  if (ledgerRows.length > 0) {
    out.push(
      table(
        '6c. Sweep with the ledger (DynamoDB calls counted at the dynalite endpoint)',
        ledgerRows.map((row) => ({
          figure: row.measure,
          value: row.value,
          target: row.target,
          status: row.status,
        })),
      ),
    );
  }
  const misses = r.targets.filter((row) => row.status === 'MISS');
  out.push(
    misses.length === 0
      ? 'Every target met.'
      : `Targets missed (${misses.length}): ${misses.map((row) => `${row.measure} = ${row.value} (target ${row.target})`).join('; ')}`,
    '',
  );
  return out.join('\n');
}
