import type { Context } from 'aws-lambda';
import { FUNCTION_TIMEOUT_MS } from '../../infra/bundling.ts';
import { benchContext, cancelByIdEvent } from './lambda.ts';
import type {
  ChildReply,
  ChildRequest,
  Counts,
  SessionEnd,
  SessionInvoke,
  SessionKind,
  SessionMessage,
} from './protocol.ts';

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

/** One API invocation: the handler call alone is timed (API Gateway and Lambda build event and context). */
async function invokeApi(handler: Handler, id: string): Promise<{ ms: number; outcome: string }> {
  const event = cancelByIdEvent(id);
  const context = benchContext('cancel-deletion', API_TIMEOUT_MS);
  const t0 = performance.now();
  const result = await handler(event, context);
  const ms = performance.now() - t0;
  return { ms, outcome: apiOutcome(result) };
}

/**
 * One remediation invocation, timed alone: the context is built before, the outcome counted after
 * (Lambda's work). A throw is the handler's answer for a failed key, not the bench's failure.
 */
async function invokeRemediation(
  handler: Handler,
  event: unknown,
): Promise<{ ms: number; result: unknown; failure: unknown }> {
  const context = benchContext('remediate-deletion', REMEDIATION_TIMEOUT_MS);
  const t0 = performance.now();
  let result: unknown;
  let failure: unknown;
  try {
    result = await handler(event, context);
  } catch (error) {
    failure = error ?? new Error('undefined thrown');
  }
  return { ms: performance.now() - t0, result, failure };
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
      for (const id of request.warmupIds) count(outcomes, `warmup:${(await invokeApi(handler, id)).outcome}`);
      const samplesMs: number[] = [];
      for (const id of request.ids) {
        const { ms, outcome } = await invokeApi(handler, id);
        samplesMs.push(ms);
        count(outcomes, outcome);
      }
      return { mode: 'warm', samplesMs, outcomes, ...base() };
    }
    case 'remediation-warm': {
      const handler = await load(request.file);
      const outcomes: Counts = {};
      let errors = 0;
      const invoke = async (event: unknown, timed: number[] | undefined) => {
        const { ms, result, failure } = await invokeRemediation(handler, event);
        timed?.push(ms);
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
    case 'session':
      return session(request.file, request.kind);
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

/**
 * Lockstep mode: the handler is imported once, then each invoke message is one invocation, answered
 * with its time and outcome; the end message resolves with the totals. The parent sends the next
 * message only after the answer, so invocations never overlap (as in one Lambda container).
 */
async function session(file: string, kind: SessionKind): Promise<ChildReply> {
  const handler = await load(file);
  const outcomes: Counts = {};
  let errors = 0;
  let invocations = 0;
  const invoke = async ({ item, timed }: SessionInvoke): Promise<SessionMessage> => {
    invocations++;
    if (kind === 'api') {
      const { ms, outcome } = await invokeApi(handler, item as string);
      count(outcomes, timed ? outcome : `warmup:${outcome}`);
      return { type: 'sample', ms, outcome };
    }
    const { ms, result, failure } = await invokeRemediation(handler, item);
    if (failure !== undefined) {
      errors++;
      addFailure(outcomes, failure);
      return { type: 'sample', ms, outcome: `error:${failure instanceof Error ? failure.name : 'unknown'}` };
    }
    if (timed) addSummary(outcomes, result);
    const summary = (result as { summary?: Record<string, number> } | undefined)?.summary ?? {};
    const names = Object.keys(summary).filter((name) => (summary[name] ?? 0) > 0);
    return { type: 'sample', ms, outcome: names.join('+') || 'none' };
  };
  return new Promise((resolve, reject) => {
    process.on('message', (message: SessionInvoke | SessionEnd) => {
      if (message.type === 'end') {
        resolve({ mode: 'session', outcomes, errors, invocations, ...base() });
        return;
      }
      invoke(message).then((answer) => process.send?.(answer), reject);
    });
    process.send?.({ type: 'ready' } satisfies SessionMessage);
  });
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
