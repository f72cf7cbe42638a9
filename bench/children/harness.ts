import type { Context } from 'aws-lambda';
import { FUNCTION_TIMEOUT_MS } from '../../infra/bundling.ts';
import { benchContext, cancelByIdEvent } from './lambda.ts';
import type { ChildReply, ChildRequest, Counts } from './protocol.ts';

/**
 * The one entry of every benchmark child process. It imports only Node built-ins, so nothing but the
 * module under test is loaded inside a timed region; it is bundled and run with plain `node`, no
 * TypeScript loader, so import timings are those of the deployed runtime.
 */

type Handler = (event: unknown, context: Context) => Promise<unknown>;

// The context counts down from the deployed timeouts (a constants-only module: nothing else is loaded).
const API_TIMEOUT_MS = FUNCTION_TIMEOUT_MS['cancel-deletion'];
const REMEDIATION_TIMEOUT_MS = FUNCTION_TIMEOUT_MS['remediate-deletion'];

const base = () => ({ node: process.version, maxRssKb: process.resourceUsage().maxRSS });

async function load(file: string): Promise<Handler> {
  const mod = (await import(file)) as { handler?: unknown };
  if (typeof mod.handler !== 'function') throw new Error(`${file} exports no handler`);
  return mod.handler as Handler;
}

function count(counts: Counts, name: string): void {
  counts[name] = (counts[name] ?? 0) + 1;
}

/** `cancelled`, `not-pending`, or `status-<code>` for an answer that is not a 200. */
function apiOutcome(result: unknown): string {
  const r = result as { statusCode?: number; body?: string } | undefined;
  if (r?.statusCode !== 200) return `status-${r?.statusCode ?? 'none'}`;
  try {
    return String((JSON.parse(r.body ?? '{}') as { outcome?: unknown }).outcome);
  } catch {
    return 'unreadable';
  }
}

function addSummary(counts: Counts, result: unknown): void {
  const summary = (result as { summary?: Record<string, number> } | undefined)?.summary ?? {};
  for (const [name, n] of Object.entries(summary)) counts[name] = (counts[name] ?? 0) + n;
}

/** Outcome counts carried by the error a remediation handler throws when a key failed. */
function addFailure(counts: Counts, error: unknown): void {
  count(counts, `error:${error instanceof Error ? error.name : 'unknown'}`);
}

async function run(request: ChildRequest): Promise<ChildReply> {
  switch (request.mode) {
    case 'import': {
      const t0 = performance.now();
      await import(request.file);
      return { mode: 'import', ms: performance.now() - t0, ...base() };
    }
    case 'cold-invoke': {
      const event = cancelByIdEvent(request.id);
      const context = benchContext('cancel-deletion', API_TIMEOUT_MS);
      const t0 = performance.now();
      const handler = await load(request.file);
      const imported = performance.now();
      const result = await handler(event, context);
      const ms = performance.now() - t0;
      const outcomes: Counts = {};
      count(outcomes, apiOutcome(result));
      return { mode: 'cold-invoke', ms, importMs: imported - t0, outcomes, ...base() };
    }
    case 'warm': {
      const handler = await load(request.file);
      const outcomes: Counts = {};
      for (const id of request.warmupIds) {
        count(
          outcomes,
          `warmup:${apiOutcome(await handler(cancelByIdEvent(id), benchContext('cancel-deletion', API_TIMEOUT_MS)))}`,
        );
      }
      const samplesMs: number[] = [];
      for (const id of request.ids) {
        // Event and context are built outside the timed region: API Gateway and Lambda make them.
        const event = cancelByIdEvent(id);
        const context = benchContext('cancel-deletion', API_TIMEOUT_MS);
        const t0 = performance.now();
        const result = await handler(event, context);
        samplesMs.push(performance.now() - t0);
        count(outcomes, apiOutcome(result));
      }
      return { mode: 'warm', samplesMs, outcomes, ...base() };
    }
    case 'remediation-warm': {
      const handler = await load(request.file);
      const outcomes: Counts = {};
      let errors = 0;
      // Times the handler alone: the context is built before, the outcome counted after (Lambda's work).
      const invoke = async (event: unknown, timed: number[] | undefined) => {
        const context = benchContext('remediate-deletion', REMEDIATION_TIMEOUT_MS);
        const t0 = performance.now();
        let result: unknown;
        let failure: unknown;
        try {
          result = await handler(event, context);
        } catch (error) {
          failure = error ?? new Error('undefined thrown');
        }
        timed?.push(performance.now() - t0);
        if (failure !== undefined) {
          errors++;
          addFailure(outcomes, failure);
        } else if (timed) addSummary(outcomes, result);
      };
      for (const event of request.warmupEvents) await invoke(event, undefined);
      const samplesMs: number[] = [];
      for (const event of request.events) await invoke(event, samplesMs);
      return { mode: 'remediation-warm', samplesMs, outcomes, errors, ...base() };
    }
    case 'burst': {
      const handler = await load(request.file);
      const outcomes: Counts = {};
      let errors = 0;
      let next = 0;
      const worker = async () => {
        while (next < request.events.length) {
          const event = request.events[next++];
          try {
            addSummary(
              outcomes,
              await handler(event, benchContext('remediate-deletion', REMEDIATION_TIMEOUT_MS)),
            );
          } catch (error) {
            errors++;
            addFailure(outcomes, error);
          }
        }
      };
      const t0 = performance.now();
      await Promise.all(Array.from({ length: request.concurrency }, worker));
      return { mode: 'burst', wallMs: performance.now() - t0, outcomes, errors, ...base() };
    }
    case 'sweep': {
      const handler = await load(request.file);
      const outcomes: Counts = {};
      let errors = 0;
      const t0 = performance.now();
      try {
        addSummary(
          outcomes,
          await handler(request.event, benchContext('remediate-deletion', REMEDIATION_TIMEOUT_MS)),
        );
      } catch (error) {
        errors++;
        addFailure(outcomes, error);
      }
      return { mode: 'sweep', wallMs: performance.now() - t0, outcomes, errors, ...base() };
    }
  }
}

function reply(message: ChildReply): void {
  // The function's keep-alive sockets would hold the process open: exit once the reply is out.
  process.send?.(message, () => process.exit(0));
}

process.once('message', (request: ChildRequest) => {
  run(request).then(reply, (error: unknown) =>
    reply({
      mode: 'error',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      ...base(),
    }),
  );
});
