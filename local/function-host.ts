import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** An error the function threw (or a timeout), as Lambda reports it: name and message only. */
export class FunctionError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
    this.name = errorType;
  }
}

/** Options of `startFunctionHost`. */
export interface FunctionHostOptions {
  /** Function name, as in the Lambda context. */
  readonly functionName: string;
  /** The function's timeout (the deployed value); an invocation running longer is killed. */
  readonly timeoutMs: number;
  /** The function's environment (the whole of it: the worker does not inherit this process's). */
  readonly env: Readonly<Record<string, string>>;
  /** Receives everything the function writes to stdout and stderr (its log lines). */
  readonly onOutput?: (chunk: string) => void;
}

/** One function, run like a Lambda container: cold start, warm invocations, killed on timeout. */
export interface FunctionHost {
  /** Invokes the handler with `event`; rejects with a FunctionError when it throws or times out. */
  invoke<R = unknown>(event: unknown): Promise<R>;
  /** Cold starts so far (the first invocation and every one after a timeout). */
  readonly coldStarts: number;
  close(): Promise<void>;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

const WORKER_FILE = new URL('./function-worker.ts', import.meta.url);

/**
 * Hosts a function bundle in a worker thread with its own `process.env`, set before the bundle is
 * imported (the functions read their configuration at module load). Native Node loads the bundle,
 * as Lambda's runtime does, and each function keeps its own module state (config, token and
 * secret caches) however many functions run in this process.
 */
export async function startFunctionHost(file: string, options: FunctionHostOptions): Promise<FunctionHost> {
  if (!existsSync(file)) throw new Error(`bundle ${file} does not exist; build it first`);
  // One container at a time; each has its own pending invocations, so a dying one fails only its own.
  let container: { worker: Worker; pending: Map<number, Pending>; ready: Promise<void> } | undefined;
  let coldStarts = 0;
  let nextId = 1;

  const boot = (): NonNullable<typeof container> => {
    coldStarts += 1;
    const pending = new Map<number, Pending>();
    const failAll = (error: Error): void => {
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    };
    const w = new Worker(WORKER_FILE, {
      workerData: { file: pathToFileURL(file).href },
      env: { ...options.env },
      // Not this process's flags (tsx's loader would transform the bundle): Node loads it natively,
      // as on Lambda, and strips the worker file's types by itself.
      execArgv: [],
      stdout: true,
      stderr: true,
    });
    const forward = (chunk: Buffer | string): void => {
      options.onOutput?.(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    };
    w.stdout.on('data', forward);
    w.stderr.on('data', forward);
    const ready = new Promise<void>((resolve, reject) => {
      w.on(
        'message',
        (msg: {
          ready?: boolean;
          id?: number;
          ok?: boolean;
          result?: unknown;
          error?: { name: string; message: string };
        }) => {
          if (msg.ready) {
            resolve();
            return;
          }
          const p = msg.id === undefined ? undefined : pending.get(msg.id);
          if (!p || msg.id === undefined) return;
          pending.delete(msg.id);
          if (msg.ok) p.resolve(msg.result);
          else p.reject(new FunctionError(msg.error?.name ?? 'Error', msg.error?.message ?? 'unknown error'));
        },
      );
      w.on('error', (e) => {
        reject(e);
        failAll(new FunctionError('Runtime.ImportModuleError', e.message));
      });
      w.on('exit', () => {
        if (container?.worker === w) container = undefined;
        reject(new FunctionError('Runtime.ExitError', 'the function exited before it was ready'));
        failAll(new FunctionError('Runtime.ExitError', 'the function exited'));
      });
    });
    return { worker: w, pending, ready };
  };

  const host: FunctionHost = {
    get coldStarts() {
      return coldStarts;
    },
    async invoke<R>(event: unknown): Promise<R> {
      container ??= boot();
      const c = container;
      await c.ready;
      const id = nextId++;
      const deadline = Date.now() + options.timeoutMs;
      const result = new Promise<unknown>((resolve, reject) => {
        c.pending.set(id, { resolve, reject });
      });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          c.pending.delete(id);
          // As Lambda does: the sandbox is stopped and the next invocation starts cold.
          if (container === c) container = undefined;
          void c.worker.terminate();
          reject(
            new FunctionError('Sandbox.Timedout', `Task timed out after ${options.timeoutMs / 1000} seconds`),
          );
        }, options.timeoutMs);
      });
      c.worker.postMessage({
        id,
        event,
        deadline,
        functionName: options.functionName,
        requestId: randomUUID(),
      });
      try {
        return (await Promise.race([result, timeout])) as R;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      const c = container;
      container = undefined;
      if (c) await c.worker.terminate();
    },
  };
  return host;
}
