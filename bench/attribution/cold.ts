import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { FunctionName } from '../../infra/bundling.ts';
import { BUILD_DIR, buildBundle, buildFunctionBundles } from '../../local/build-bundles.ts';
import { runChild } from '../child.ts';
import { runWhenEntry } from '../cli.ts';
import { floorEntrySource, thirdPartyImports } from '../floor.ts';
import { lambdaProcessEnv } from '../lambda-heap.ts';
import { BENCH_BUILD_DIR } from '../measures/cold-import.ts';
import { median, round, table } from '../stats.ts';

/**
 * `npx tsx bench/attribution/cold.ts [--runs N]`: splits a cold import's time over the floor into the
 * decided libraries' initialisation and our own modules. Three bundles per function, imported in fresh
 * processes in alternating order (the bench's `import` child): the floor (the function's third-party
 * imports, nothing run), "floor + library init" (the same, plus what the entry runs of the decided
 * libraries at load: the Powertools `Logger` constructor and a middy handler with its middlewares), and
 * the function. Prints medians, minima and the min-ratio. Evidence only; not a test.
 */

const INIT = `
import { Logger as __L } from '@aws-lambda-powertools/logger';
import __middy from '@middy/core';
const __logger = new __L({ serviceName: 'cckm-deletion-guard' });
export const __handler = __middy({ timeoutEarlyInMillis: 0 })
  .use({ before: () => undefined, onError: () => undefined })
  .handler(async () => __logger.getLevelName());
`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
  const runs = Number(values.runs);
  const bundles = await buildFunctionBundles(BENCH_BUILD_DIR);
  const harness = (await buildBundle('harness', 'bench/children/harness.ts', BENCH_BUILD_DIR)).file;
  const src = path.join(BUILD_DIR, 'bench-floor-src', `attr-${process.pid}`);
  await mkdir(src, { recursive: true });
  const out: string[] = [];
  try {
    for (const bundle of Object.values(bundles)) {
      const floorSource = floorEntrySource(await thirdPartyImports(bundle.metafile));
      await writeFile(path.join(src, 'floor.ts'), floorSource);
      await writeFile(path.join(src, 'init.ts'), `${floorSource}\n${INIT}`);
      const floor = await buildBundle(
        `attr-floor-${bundle.name}`,
        path.join(src, 'floor.ts'),
        BENCH_BUILD_DIR,
      );
      const init = await buildBundle(`attr-init-${bundle.name}`, path.join(src, 'init.ts'), BENCH_BUILD_DIR);
      const env = {
        ...lambdaProcessEnv(bundle.name as FunctionName),
        AWS_REGION: 'us-east-1',
        CCKM_URL: 'https://127.0.0.1:8443',
        CCKM_SECRET_ID: 'cckm/bench',
        NOTIFY_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:bench',
        POWERTOOLS_LOG_LEVEL: 'WARN',
        POWERTOOLS_SERVICE_NAME: 'cckm-deletion-guard',
      };
      const sides = [
        { name: 'floor', file: floor.file, kb: floor.bytes / 1024, ms: [] as number[] },
        { name: 'floor + library init', file: init.file, kb: init.bytes / 1024, ms: [] as number[] },
        { name: 'function', file: bundle.file, kb: bundle.bytes / 1024, ms: [] as number[] },
      ];
      for (let i = 0; i < runs; i++) {
        for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
          const { reply } = await runChild(
            harness,
            { mode: 'import', file: side.file },
            env,
            'import',
            60_000,
          );
          side.ms.push(reply.ms);
        }
      }
      const [f] = sides;
      const fMed = median(f?.ms ?? []);
      const fMin = Math.min(...(f?.ms ?? []));
      out.push(
        table(
          `Cold import of ${bundle.name}, ${runs} alternating fresh processes per bundle`,
          sides.map((s) => ({
            bundle: s.name,
            kb: round(s.kb, 1),
            medianMs: round(median(s.ms), 2),
            minMs: round(Math.min(...s.ms), 2),
            ratio: round(median(s.ms) / fMed),
            minRatio: round(Math.min(...s.ms) / fMin),
          })),
        ),
      );
      process.stderr.write(`[cold] ${bundle.name} done\n`);
    }
  } finally {
    await rm(src, { recursive: true, force: true });
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

runWhenEntry(import.meta.url, 'cold attribution', main);
