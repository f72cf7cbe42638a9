import { parentPort, workerData } from 'node:worker_threads';
import { lambdaContext } from './lambda-context.ts';

/*
 * Runs inside a worker thread: one Lambda "container" for one function bundle. Loaded by
 * `function-host.ts`; plain erasable TypeScript so Node runs it without a loader.
 */

interface InvokeMessage {
  readonly id: number;
  readonly event: unknown;
  readonly deadline: number;
  readonly functionName: string;
  readonly requestId: string;
}

const port = parentPort;
if (!port) throw new Error('function-worker.ts runs only as a worker thread');

const { file } = workerData as { file: string };
// The worker's own process.env was set by the host before this import: config is read at module load.
const mod = (await import(file)) as { handler?: unknown };
if (typeof mod.handler !== 'function') throw new Error(`${file} exports no handler function`);
const handler = mod.handler as (event: unknown, context: unknown) => Promise<unknown>;

port.on('message', (msg: InvokeMessage) => {
  const context = lambdaContext({
    functionName: msg.functionName,
    awsRequestId: msg.requestId,
    deadline: msg.deadline,
  });
  handler(msg.event, context).then(
    (result) => port.postMessage({ id: msg.id, ok: true, result }),
    (error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      port.postMessage({ id: msg.id, ok: false, error: { name: e.name, message: e.message } });
    },
  );
});
port.postMessage({ ready: true });
