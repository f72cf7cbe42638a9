import { BUNDLE_RUNTIME_ENV, FUNCTION_MEMORY_MB, type FunctionName } from '../infra/bundling.ts';

/**
 * The V8 heap a Lambda function of a given memory size runs with. Lambda's Node.js runtime starts
 * node with `--max-semi-space-size` = 5 % and `--max-old-space-size` = 90 % of
 * `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (the runtime's `bootstrap`, as reproduced by lambci's
 * node-custom-lambda and docker-lambda images, which copied it from the managed runtime; AWS does not
 * document the figures, so they are an assumption stated in BENCHMARKS.md). Without these flags a
 * bench child on a 24 GiB machine lets garbage grow far beyond what a 512 MB function would.
 */

/** The node flags Lambda's runtime derives from the function's memory, in MB. */
export function lambdaHeapFlags(memoryMb: number): string {
  if (!Number.isInteger(memoryMb) || memoryMb < 128) throw new Error(`not a Lambda memory size: ${memoryMb}`);
  return `--max-semi-space-size=${Math.floor((memoryMb * 5) / 100)} --max-old-space-size=${Math.floor((memoryMb * 90) / 100)}`;
}

/** What a deployed function's process is started with: its memory size and the runtime's heap flags. */
export function lambdaProcessEnv(name: FunctionName): Record<string, string> {
  const memoryMb = FUNCTION_MEMORY_MB[name];
  const nodeOptions = [BUNDLE_RUNTIME_ENV.NODE_OPTIONS, lambdaHeapFlags(memoryMb)].filter(Boolean).join(' ');
  return {
    ...BUNDLE_RUNTIME_ENV,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
    NODE_OPTIONS: nodeOptions,
  };
}
