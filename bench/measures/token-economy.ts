import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from '../../local/build-bundles.ts';
import { generatePendingKeys, type SeedUser, type SimulatorTls } from '../../local/simulator/index.ts';
import { startBackends } from '../backends.ts';
import { runChild } from '../child.ts';
import type { Counts } from '../children/protocol.ts';
import { scheduleKeyDeletionEvent } from '../events.ts';
import { round } from '../stats.ts';

/** Inputs of the token-economy measure. */
export interface TokenEconomyOptions {
  readonly harness: string;
  /** The remediation function bundle. */
  readonly guardFile: string;
  readonly events: number;
  readonly concurrency: number;
  readonly tls: SimulatorTls;
  readonly users: readonly SeedUser[];
}

/** Token-economy figures of one burst. */
export interface TokenEconomyFigures {
  readonly events: number;
  readonly concurrency: number;
  /** GetSecretValue calls the Secrets Manager stand-in answered. */
  readonly secretReads: number;
  /** Token grants the simulator gave. */
  readonly tokenGrants: number;
  /** TCP connections the simulator accepted. */
  readonly socketsOpened: number;
  /** The undici Agent's `connections` (functions/adapters/cm-agent.ts). */
  readonly connectionLimit: number;
  /** Every CipherTrust Manager request (token grants included) ÷ events. */
  readonly cckmRequestsPerEvent: number;
  /** Token lifetimes (refresh interval: lifetime - 30 s) the burst spanned, at least 1. */
  readonly tokenLifetimes: number;
  readonly wallMs: number;
  readonly peakRssMb: number;
  /** Requests by simulator route. */
  readonly byRoute: Readonly<Record<string, number>>;
  readonly outcomes: Counts;
}

/** The simulator's JWT lifetime (its default, CipherTrust Manager's 300 s) and the client's refresh margin. */
const TOKEN_LIFETIME_MS = 300_000;
const REFRESH_MARGIN_MS = 30_000;

/** The Agent's connection limit, read from the adapter so the target follows the code. */
export async function agentConnectionLimit(): Promise<number> {
  const source = await readFile(path.join(ROOT, 'functions/adapters/cm-agent.ts'), 'utf8');
  const match = /\bconnections:\s*(\d+)/.exec(source);
  if (!match?.[1]) throw new Error('no `connections:` setting found in functions/adapters/cm-agent.ts');
  return Number(match[1]);
}

/**
 * A burst of CloudTrail `ScheduleKeyDeletion` events, one per generated pending key, into one
 * remediation process at the given concurrency; counts what the guard spent on the other side.
 * Note that Lambda runs one event per container at a time: this asks how well concurrent work in one
 * process shares the secret, the token and the sockets, an upper bound on what a container sees.
 */
export async function tokenEconomy(options: TokenEconomyOptions): Promise<TokenEconomyFigures> {
  const keys = generatePendingKeys(options.events, { prefix: 'burst' });
  const backends = await startBackends({
    fn: 'remediate-deletion',
    keys,
    tls: options.tls,
    users: options.users,
  });
  try {
    const { reply } = await runChild(
      options.harness,
      {
        mode: 'burst',
        file: options.guardFile,
        events: keys.map(scheduleKeyDeletionEvent),
        concurrency: options.concurrency,
      },
      backends.env,
      'burst',
      600_000,
    );
    if (reply.outcomes.cancelled !== options.events) {
      throw new Error(`the burst did not cancel every key: ${JSON.stringify(reply.outcomes)}`);
    }
    const counters = backends.sim.counters;
    return {
      events: options.events,
      concurrency: options.concurrency,
      secretReads: backends.secretReads(),
      tokenGrants: backends.tokenGrants(),
      socketsOpened: counters.connections,
      connectionLimit: await agentConnectionLimit(),
      cckmRequestsPerEvent: round(counters.requests / options.events, 3),
      tokenLifetimes: Math.max(1, Math.ceil(reply.wallMs / (TOKEN_LIFETIME_MS - REFRESH_MARGIN_MS))),
      wallMs: round(reply.wallMs, 1),
      peakRssMb: round(reply.maxRssKb / 1024, 1),
      byRoute: { ...counters.byRoute },
      outcomes: reply.outcomes,
    };
  } finally {
    await backends.close();
  }
}
