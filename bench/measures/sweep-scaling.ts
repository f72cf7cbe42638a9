import { PAGE_SIZE } from '../../functions/adapters/cckm-listing.ts';
import { generatePendingKeys, type SeedUser, type SimulatorTls } from '../../local/simulator/index.ts';
import { startBackends } from '../backends.ts';
import { runChild } from '../child.ts';
import type { Counts } from '../children/protocol.ts';
import { sweepEvent } from '../events.ts';
import { type SweepLedger, startSweepLedger } from '../ledger.ts';
import { round } from '../stats.ts';

/** Inputs of the sweep-scaling measure. */
export interface SweepOptions {
  readonly harness: string;
  /** The remediation function bundle. */
  readonly guardFile: string;
  /** Numbers of keys pending deletion, ascending. */
  readonly sizes: readonly number[];
  readonly tls: SimulatorTls;
  readonly users: readonly SeedUser[];
  /** Starts the ledger of one sweep (default: bench/ledger.ts, dynalite with the ledger table). */
  readonly ledger?: () => Promise<SweepLedger | undefined>;
}

/** One sweep over `keys` keys pending deletion. */
export interface SweepRow {
  readonly keys: number;
  /** The handler's wall time (import excluded; secret read and token grant included). */
  readonly wallMs: number;
  /** Of which the simulator spent answering list pages (its own request log). */
  readonly simListMs: number;
  readonly cckmRequests: number;
  readonly pages: number;
  readonly gets: number;
  readonly cancels: number;
  readonly enables: number;
  readonly tokenGrants: number;
  /** pages + cancels + enables + token grants: what the target allows. */
  readonly expectedRequests: number;
  /** Pages a listing of `keys` needs at the client's page size. */
  readonly minimumPages: number;
  readonly notificationsPublished: number;
  /**
   * DynamoDB calls of the sweep by operation, counted at the ledger's endpoint; absent while the
   * function has no ledger (bench/ledger.ts).
   */
  readonly ledgerCalls?: Readonly<Record<string, number>>;
  /** Peak RSS of the sweep process, MiB, with the heap Lambda gives a 512 MB function. */
  readonly peakRssMb: number;
  readonly outcomes: Counts;
}

/** Growth from one size to the next. */
export interface SweepGrowth {
  readonly fromKeys: number;
  readonly toKeys: number;
  readonly keysFactor: number;
  readonly timeFactor: number;
  readonly requestsFactor: number;
}

const LIST = 'GET /api/v1/cckm/aws/keys';
const GET = 'GET /api/v1/cckm/aws/keys/{id}';
const CANCEL = 'POST /api/v1/cckm/aws/keys/{id}/cancel-deletion';
const ENABLE = 'POST /api/v1/cckm/aws/keys/{id}/enable';

/** One scheduled sweep per size, each in a fresh process against a freshly seeded simulator. */
export async function sweepScaling(
  options: SweepOptions,
  progress: (line: string) => void = () => undefined,
): Promise<{ rows: SweepRow[]; growth: SweepGrowth[] }> {
  const rows: SweepRow[] = [];
  for (const keys of options.sizes) {
    progress(`sweep of ${keys} keys`);
    const ledger = await (options.ledger ?? startSweepLedger)();
    const backends = await startBackends({
      extraEnv: ledger?.env,
      fn: 'remediate-deletion',
      keys: generatePendingKeys(keys, { prefix: 'sweep' }),
      tls: options.tls,
      users: options.users,
    }).catch(async (error: unknown) => {
      await ledger?.dynamo.close();
      throw error;
    });
    try {
      const { reply } = await runChild(
        options.harness,
        { mode: 'sweep', file: options.guardFile, event: sweepEvent() },
        backends.env,
        'sweep',
        600_000,
      );
      if (reply.outcomes.cancelled !== keys || reply.errors > 0) {
        throw new Error(
          `the sweep of ${keys} keys did not cancel every key: ${JSON.stringify(reply.outcomes)}`,
        );
      }
      const byRoute = backends.sim.counters.byRoute;
      const pages = byRoute[LIST] ?? 0;
      const cancels = byRoute[CANCEL] ?? 0;
      const enables = byRoute[ENABLE] ?? 0;
      const tokenGrants = backends.tokenGrants();
      rows.push({
        keys,
        wallMs: round(reply.wallMs, 1),
        simListMs: backends.sim.requestsTo('/api/v1/cckm/aws/keys', 'GET').reduce((sum, e) => sum + e.ms, 0),
        cckmRequests: backends.sim.counters.requests,
        pages,
        gets: byRoute[GET] ?? 0,
        cancels,
        enables,
        tokenGrants,
        expectedRequests: pages + cancels + enables + tokenGrants,
        minimumPages: Math.max(1, Math.ceil(keys / PAGE_SIZE)),
        notificationsPublished: backends.aws.sns.messages.length,
        ...(ledger && { ledgerCalls: ledger.dynamo.calls() }),
        peakRssMb: round(reply.maxRssKb / 1024, 1),
        outcomes: reply.outcomes,
      });
    } finally {
      await Promise.allSettled([backends.close(), ledger?.dynamo.close()]);
    }
  }
  const growth: SweepGrowth[] = [];
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1] as SweepRow;
    const b = rows[i] as SweepRow;
    growth.push({
      fromKeys: a.keys,
      toKeys: b.keys,
      keysFactor: round(b.keys / a.keys, 2),
      timeFactor: round(b.wallMs / a.wallMs, 2),
      requestsFactor: round(b.cckmRequests / a.cckmRequests, 2),
    });
  }
  return { rows, growth };
}
