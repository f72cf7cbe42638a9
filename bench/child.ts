import { type ChildProcess, spawn } from 'node:child_process';
import type { ChildReply, ChildRequest } from './children/protocol.ts';

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
    const child = spawn(process.execPath, [harness], {
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    running.add(child);
    let stdoutBytes = 0;
    let stderr = '';
    let reply: ChildReply | undefined;
    child.stdout?.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      // The tail is enough to say why a child failed; a chatty one must not fill the bench's memory.
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
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
        resolve({ reply: reply as Extract<ChildReply, { mode: M }>, stdoutBytes });
        return;
      }
      const why =
        reply?.mode === 'error'
          ? reply.message
          : signal === 'SIGKILL'
            ? `killed after ${timeoutMs} ms`
            : `exit ${code ?? signal}`;
      reject(new Error(`bench child (${request.mode}) failed: ${why}\n${stderr}`));
    });
    child.send(request);
  });
}
