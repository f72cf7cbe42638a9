import type { Context } from 'aws-lambda';
import { FUNCTION_TIMEOUT_MS } from '../../infra/bundling.ts';
import { benchContext, cancelByIdEvent } from '../children/lambda.ts';

/**
 * Attribution only: one process that imports several handlers (each bundle imported as its own module
 * instance, with its own environment overrides applied while it loads), warms each up, then calls them
 * in turn, one invocation each per step in a new random order each step, so machine noise falls on every
 * variant alike. Driven by `bench/attribution/run.ts --interleaved`; replies with every variant's samples.
 */

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface InterleavedVariant {
  readonly name: string;
  readonly file: string;
  /** Set while the bundle loads; an empty string removes the variable. */
  readonly env: Readonly<Record<string, string>>;
  /** API: CCKM key ids; remediation: CloudTrail events. Warm-up items first. */
  readonly items: readonly unknown[];
}

export interface InterleavedRequest {
  readonly kind: 'api' | 'remediation';
  readonly warmup: number;
  readonly variants: readonly InterleavedVariant[];
}

export interface InterleavedReply {
  readonly samples: Record<string, number[]>;
  readonly errors: Record<string, number>;
}

async function load(v: InterleavedVariant, index: number): Promise<Handler> {
  const saved = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(v.env)) {
    saved.set(name, process.env[name]);
    if (value === '') delete process.env[name];
    else process.env[name] = value;
  }
  try {
    const mod = (await import(`${v.file}?variant=${index}`)) as { handler: Handler };
    return mod.handler;
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

async function run(request: InterleavedRequest): Promise<InterleavedReply> {
  const fn = request.kind === 'api' ? 'cancel-deletion' : 'remediate-deletion';
  const timeout = FUNCTION_TIMEOUT_MS[fn];
  const handlers: Handler[] = [];
  for (const [i, v] of request.variants.entries()) handlers.push(await load(v, i));
  const samples: Record<string, number[]> = {};
  const errors: Record<string, number> = {};
  const invoke = async (i: number, item: unknown, timed: boolean) => {
    const v = request.variants[i] as InterleavedVariant;
    const handler = handlers[i] as Handler;
    const event = request.kind === 'api' ? cancelByIdEvent(item as string) : item;
    const context = benchContext(fn, timeout);
    const t0 = performance.now();
    let failed = false;
    try {
      const result = (await handler(event, context)) as { statusCode?: number } | undefined;
      if (request.kind === 'api' && result?.statusCode !== 200) failed = true;
    } catch {
      failed = true;
    }
    const ms = performance.now() - t0;
    if (failed) errors[v.name] = (errors[v.name] ?? 0) + 1;
    if (timed) {
      const list = samples[v.name] ?? [];
      list.push(ms);
      samples[v.name] = list;
    }
  };
  const n = request.variants.length;
  const length = Math.min(...request.variants.map((v) => v.items.length));
  // A fresh random order every step (Fisher-Yates), not a rotation: a rotation gives every variant the
  // same predecessor at every step, and what the predecessor leaves behind (an SNS publish's socket and
  // timer work, its garbage) then lands on one variant's timings only.
  const order = request.variants.map((_, i) => i);
  for (let step = 0; step < length; step++) {
    for (let k = n - 1; k > 0; k--) {
      const j = Math.floor(Math.random() * (k + 1));
      [order[k], order[j]] = [order[j] as number, order[k] as number];
    }
    for (const i of order) await invoke(i, request.variants[i]?.items[step], step >= request.warmup);
  }
  return { samples, errors };
}

process.once('message', (request: InterleavedRequest) => {
  run(request).then(
    (reply) => process.send?.(reply, () => process.exit(0)),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
      process.exit(1);
    },
  );
});
