import { type ChildProcess, spawn } from 'node:child_process';
import type {
  ChildReply,
  ChildRequest,
  SessionEnd,
  SessionInvoke,
  SessionKind,
  SessionMessage,
} from './children/protocol.ts';

/** A finished child run: its reply and what it wrote. */
export interface ChildRun<R extends ChildReply> {
  readonly reply: R;
  /** Bytes the child wrote to stdout: the function's log lines (and EMF metrics), as Lambda would ship them. */
  readonly stdoutBytes: number;
}

const running = new Set<ChildProcess>();

/** Kills every child still running (the bench's watchdog and error path). */
export function killChildren(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Variables a child inherits from the machine; everything else is the function's own environment. */
const MACHINE_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'] as const;

/** The environment of a child: the machine's basics plus `env`, nothing else from the bench process. */
export function childEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const machine: Record<string, string> = {};
  for (const name of MACHINE_ENV) {
    const value = process.env[name];
    if (value !== undefined) machine[name] = value;
  }
  return { ...machine, ...env };
}

/** A started harness child and what it has written so far: stdout counted, the tail of stderr kept. */
interface CountedChild {
  readonly child: ChildProcess;
  readonly stdoutBytes: () => number;
  readonly stderr: () => string;
}

/**
 * Spawns the bundled harness in a fresh Node process (the Node running the bench, 24, no loader) with
 * the function's environment, registered for `killChildren`. stdout is drained through a pipe, as
 * Lambda's runtime reads it, and counted.
 */
function spawnHarness(harness: string, env: Readonly<Record<string, string>>): CountedChild {
  const child = spawn(process.execPath, [harness], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  running.add(child);
  let stdoutBytes = 0;
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdoutBytes += chunk.length;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    // The tail is enough to say why a child failed; a chatty one must not fill the bench's memory.
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  return { child, stdoutBytes: () => stdoutBytes, stderr: () => stderr };
}

/**
 * Runs the bundled harness in a fresh Node process (the Node running the bench, 24, with no loader),
 * sends it one request and waits for its reply. stdout is drained through a pipe, as Lambda's runtime
 * reads it, and counted; a child that overruns `timeoutMs` is killed, so the bench always stops.
 */
export function runChild<M extends ChildReply['mode']>(
  harness: string,
  request: ChildRequest,
  env: Readonly<Record<string, string>>,
  expect: M,
  timeoutMs: number,
): Promise<ChildRun<Extract<ChildReply, { mode: M }>>> {
  return new Promise((resolve, reject) => {
    const { child, stdoutBytes, stderr } = spawnHarness(harness, env);
    let reply: ChildReply | undefined;
    child.on('message', (message: ChildReply) => {
      reply = message;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      if (reply?.mode === expect) {
        resolve({ reply: reply as Extract<ChildReply, { mode: M }>, stdoutBytes: stdoutBytes() });
        return;
      }
      const why =
        reply?.mode === 'error'
          ? reply.message
          : signal === 'SIGKILL'
            ? `killed after ${timeoutMs} ms`
            : `exit ${code ?? signal}`;
      reject(new Error(`bench child (${request.mode}) failed: ${why}\n${stderr()}`));
    });
    child.send(request);
  });
}

/** One answer of a session child: the handler call's time and its outcome. */
export interface SessionSample {
  readonly ms: number;
  readonly outcome: string;
}

/** A live lockstep child (`mode: 'session'`): one invocation per `invoke`, never two at once. */
export interface ChildSession {
  /** Invokes the handler once with `item` (a key id or an event) and waits for its answer. */
  invoke(item: unknown, timed: boolean): Promise<SessionSample>;
  /** Asks for the totals and waits for the child to exit; stdout bytes are those of the whole session. */
  end(): Promise<ChildRun<Extract<ChildReply, { mode: 'session' }>>>;
  /** Kills the child (another side of its round failed); a pending `invoke` or `end` rejects. */
  kill(): void;
}

/**
 * Starts the bundled harness in session mode (a fresh Node process, as `runChild`) and resolves once
 * the child has imported `file` and said it is ready. stdout is counted as `runChild` counts it; a
 * child that overruns `timeoutMs` (from its start to its exit) is killed, and `killChildren` reaches
 * it, so a pending `invoke` or `end` always settles.
 */
export function startSession(
  harness: string,
  file: string,
  kind: SessionKind,
  env: Readonly<Record<string, string>>,
  timeoutMs: number,
): Promise<ChildSession> {
  const { child, stdoutBytes, stderr } = spawnHarness(harness, env);
  let final: ChildReply | undefined;
  let failure: Error | undefined;
  /** The one message being waited for (ready, a sample, or the final reply), if any. */
  let waiting:
    | { resolve: (message: SessionMessage | ChildReply) => void; reject: (e: Error) => void }
    | undefined;
  const timer = setTimeout(() => {
    child.kill('SIGKILL');
  }, timeoutMs);
  const fail = (error: Error) => {
    failure ??= error;
    const w = waiting;
    waiting = undefined;
    w?.reject(failure);
  };
  child.on('message', (message: SessionMessage | ChildReply) => {
    if ('mode' in message) {
      final = message;
      if (message.mode === 'error') {
        fail(new Error(`bench child (session ${kind}) failed: ${message.message}\n${stderr()}`));
        child.kill('SIGKILL');
      }
      return;
    }
    const w = waiting;
    waiting = undefined;
    if (w) w.resolve(message);
    else fail(new Error(`bench child (session ${kind}) sent ${message.type} unasked`));
  });
  const exited = new Promise<void>((resolve) => {
    child.on('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      fail(error);
      resolve();
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const why =
        signal === 'SIGKILL' && failure === undefined
          ? `killed after ${timeoutMs} ms`
          : `exit ${code ?? signal}`;
      if (final?.mode !== 'session')
        fail(new Error(`bench child (session ${kind}) failed: ${why}\n${stderr()}`));
      resolve();
    });
  });
  const next = <T extends SessionMessage | ChildReply>(send: SessionInvoke | SessionEnd | ChildRequest) =>
    new Promise<T>((resolve, reject) => {
      if (failure) {
        reject(failure);
        return;
      }
      if (waiting) {
        reject(new Error(`bench child (session ${kind}): one message at a time`));
        return;
      }
      waiting = { resolve: resolve as (m: SessionMessage | ChildReply) => void, reject };
      child.send(send);
    });
  const session: ChildSession = {
    async invoke(item, timed) {
      const answer = await next<SessionMessage>({ type: 'invoke', item, timed });
      if (answer.type !== 'sample') throw new Error(`bench child (session ${kind}) answered ${answer.type}`);
      return { ms: answer.ms, outcome: answer.outcome };
    },
    async end() {
      if (failure) throw failure;
      child.send({ type: 'end' } satisfies SessionEnd);
      await exited;
      if (final?.mode !== 'session')
        throw failure ?? new Error(`bench child (session ${kind}) sent no totals`);
      return { reply: final, stdoutBytes: stdoutBytes() };
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
  return next<SessionMessage>({ mode: 'session', file, kind }).then((answer) => {
    if (answer.type !== 'ready') throw new Error(`bench child (session ${kind}) answered ${answer.type}`);
    return session;
  });
}
