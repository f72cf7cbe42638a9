import { generatePendingKeys, type SeedUser, type SimulatorTls } from '../../local/simulator/index.ts';
import { seededIds, startBackends } from '../backends.ts';
import { runChild } from '../child.ts';
import type { Counts } from '../children/protocol.ts';
import { median, round } from '../stats.ts';

/** Inputs of the cold-invoke measure. */
export interface ColdInvokeOptions {
  readonly harness: string;
  /** The API function bundle. */
  readonly guardFile: string;
  /** The floor module (bench/children/floor-api.ts, bundled). */
  readonly floorFile: string;
  readonly runs: number;
  readonly tls: SimulatorTls;
  readonly users: readonly SeedUser[];
}

/** Cold-invoke figures: medians over fresh processes. */
export interface ColdInvokeFigures {
  readonly guardMs: number;
  readonly floorMs: number;
  readonly ratio: number;
  /** The import part of guardMs and floorMs (medians). */
  readonly guardImportMs: number;
  readonly floorImportMs: number;
  /** Secret reads and token grants per guard run (1 and 1 for a cold start). */
  readonly guardSecretReadsPerRun: number;
  readonly guardTokenGrantsPerRun: number;
  readonly runs: number;
}

function expectCancelled(outcomes: Counts, who: string): void {
  if (outcomes.cancelled !== 1) {
    throw new Error(`cold invoke (${who}) did not cancel the key: ${JSON.stringify(outcomes)}`);
  }
}

/**
 * A fresh process imports the API bundle and answers its first `POST /keys/{id}/cancel-deletion`
 * (secret read, token grant, GET key, cancel) against the simulator; the floor process does the same
 * requests with bare undici and the SDK client. Alternating runs; the key is pending before each.
 */
export async function coldInvoke(options: ColdInvokeOptions): Promise<ColdInvokeFigures> {
  const backends = await startBackends({
    fn: 'cancel-deletion',
    keys: generatePendingKeys(1, { prefix: 'cold' }),
    tls: options.tls,
    users: options.users,
  });
  try {
    const [id] = seededIds(backends);
    if (!id) throw new Error('the cold-invoke key was not seeded');
    const guard: number[] = [];
    const floor: number[] = [];
    const guardImport: number[] = [];
    const floorImport: number[] = [];
    let guardReads = 0;
    let guardGrants = 0;
    for (let i = 0; i < options.runs; i++) {
      const coldRun = async (file: string, side: 'floor' | 'guard') => {
        backends.repend([id]);
        const { reply } = await runChild(
          options.harness,
          { mode: 'cold-invoke', file, id },
          backends.env,
          'cold-invoke',
          60_000,
        );
        expectCancelled(reply.outcomes, side);
        return reply;
      };
      const steps = [
        async () => {
          const reply = await coldRun(options.floorFile, 'floor');
          floor.push(reply.ms);
          floorImport.push(reply.importMs);
        },
        async () => {
          const reads = backends.secretReads();
          const grants = backends.tokenGrants();
          const reply = await coldRun(options.guardFile, 'guard');
          guard.push(reply.ms);
          guardImport.push(reply.importMs);
          guardReads += backends.secretReads() - reads;
          guardGrants += backends.tokenGrants() - grants;
        },
      ];
      if (i % 2 === 1) steps.reverse();
      for (const step of steps) await step();
    }
    const guardMs = median(guard);
    const floorMs = median(floor);
    return {
      guardMs: round(guardMs, 2),
      floorMs: round(floorMs, 2),
      ratio: round(guardMs / floorMs),
      guardImportMs: round(median(guardImport), 2),
      floorImportMs: round(median(floorImport), 2),
      guardSecretReadsPerRun: round(guardReads / options.runs, 2),
      guardTokenGrantsPerRun: round(guardGrants / options.runs, 2),
      runs: options.runs,
    };
  } finally {
    await backends.close();
  }
}
