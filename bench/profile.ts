import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildBundle, buildFunctionBundles } from '../local/build-bundles.ts';
import { defaultSeed, generatePendingKeys, generateSimulatorTls } from '../local/simulator/index.ts';
import { seededIds, startBackends } from './backends.ts';
import { runChild } from './child.ts';
import type { ChildRequest } from './children/protocol.ts';
import { runWhenEntry } from './cli.ts';
import { scheduleKeyDeletionEvent, sweepEvent } from './events.ts';
import { lambdaProcessEnv } from './lambda-heap.ts';
import { BENCH_BUILD_DIR } from './measures/cold-import.ts';
import { round, table } from './stats.ts';

/**
 * `npx tsx bench/profile.ts [--out DIR] [--sweep-keys N]`: CPU profiles (`--cpu-prof`) of the guard's
 * cold import, cold invoke, warm API (WARN and INFO), warm remediation (one ScheduleKeyDeletion event at a
 * time) and a sweep, each in a bench child with the
 * deployed environment, and a summary of each: self time by original source (package or project file,
 * read through the bundle's source map) and the hottest functions. The evidence behind BENCHMARKS.md's
 * list of changes; the .cpuprofile files open in Chrome DevTools.
 */

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
    readonly columnNumber: number;
  };
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Where a frame comes from: `pkg:<name>`, a project file, or `node:`/`(gc)`-like buckets. */
function bucketOf(source: string): string {
  const nm = source.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = source.slice(nm + 'node_modules/'.length).split('/');
    return `pkg:${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  return source.replace(/^(\.\.\/)+/, '');
}

/** Self time (ms) by bucket and by function, frames of `bundleFile` mapped through its source map. */
export async function summarize(profileFile: string, bundleFile: string) {
  const profile = JSON.parse(await readFile(profileFile, 'utf8')) as CpuProfile;
  const map = new SourceMap(JSON.parse(await readFile(`${bundleFile}.map`, 'utf8')) as SourceMapPayload);
  const bundleUrl = `file://${bundleFile}`;
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byBucket = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let totalUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    totalUs += us;
    const f = node.callFrame;
    let bucket: string;
    let fn: string;
    if (f.url === bundleUrl) {
      const entry = map.findEntry(f.lineNumber, f.columnNumber) as {
        originalSource?: string;
        originalLine?: number;
        name?: string;
      };
      const source = entry.originalSource ?? 'bundle (unmapped)';
      bucket = bucketOf(source);
      fn = `${entry.name ?? f.functionName ?? '(anonymous)'} ${bucketOf(source)}:${(entry.originalLine ?? 0) + 1}`;
    } else {
      bucket =
        f.url === '' ? f.functionName || '(native)' : f.url.startsWith('node:') ? 'node:internal' : f.url;
      fn = `${f.functionName || '(anonymous)'} ${f.url || '(native)'}`;
    }
    byBucket.set(bucket, (byBucket.get(bucket) ?? 0) + us);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: round(us / 1000, 1), share: `${round((100 * us) / totalUs, 1)}%` }));
  return { totalMs: round(totalUs / 1000, 1), buckets: top(byBucket, 14), functions: top(byFunction, 18) };
}

async function profileChild(
  label: string,
  outDir: string,
  harness: string,
  request: ChildRequest,
  env: Readonly<Record<string, string>>,
  intervalUs: number,
): Promise<string> {
  const dir = path.join(outDir, label);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const nodeOptions = `${env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${dir} --cpu-prof-interval=${intervalUs}`;
  await runChild(harness, request, { ...env, NODE_OPTIONS: nodeOptions.trim() }, request.mode, 900_000);
  const [file] = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written for ${label}`);
  return path.join(dir, file);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: path.join(BENCH_BUILD_DIR, 'profiles') },
      'sweep-keys': { type: 'string', default: '10000' },
      warm: { type: 'string', default: '2000' },
    },
  });
  const out = path.resolve(values.out);
  const sweepKeys = Number(values['sweep-keys']);
  const warmN = Number(values.warm);
  const bundles = await buildFunctionBundles(BENCH_BUILD_DIR);
  const harness = (await buildBundle('harness', 'bench/children/harness.ts', BENCH_BUILD_DIR)).file;
  const tls = await generateSimulatorTls();
  const { users } = defaultSeed();
  const api = bundles['cancel-deletion'].file;
  const remediation = bundles['remediate-deletion'].file;
  const report: string[] = [];
  const show = async (label: string, profile: string, bundle: string) => {
    const s = await summarize(profile, bundle);
    report.push(
      table(`${label}: self time by source (total ${s.totalMs} ms sampled)`, s.buckets),
      table(`${label}: hottest functions (self time)`, s.functions),
    );
    process.stderr.write(`[profile] ${label}: ${profile}\n`);
  };

  const importEnv = {
    ...lambdaProcessEnv('cancel-deletion'),
    AWS_REGION: 'us-east-1',
    CCKM_URL: 'https://127.0.0.1:8443',
    CCKM_SECRET_ID: 'cckm/bench',
    POWERTOOLS_LOG_LEVEL: 'WARN',
    POWERTOOLS_SERVICE_NAME: 'cckm-deletion-guard',
  };
  await show(
    'cold import, cancel-deletion',
    await profileChild('cold-import', out, harness, { mode: 'import', file: api }, importEnv, 100),
    api,
  );

  const apiBackends = await startBackends({
    fn: 'cancel-deletion',
    keys: generatePendingKeys(warmN + 200, { prefix: 'profile' }),
    tls,
    users,
  });
  try {
    const ids = seededIds(apiBackends);
    const [first] = ids;
    if (!first) throw new Error('no key seeded');
    await show(
      'cold invoke, cancel-deletion',
      await profileChild(
        'cold-invoke',
        out,
        harness,
        { mode: 'cold-invoke', file: api, id: first },
        apiBackends.env,
        100,
      ),
      api,
    );
    for (const level of ['WARN', 'INFO'] as const) {
      apiBackends.repend(ids);
      await show(
        `warm API, ${level}`,
        await profileChild(
          `warm-${level}`,
          out,
          harness,
          { mode: 'warm', file: api, warmupIds: ids.slice(0, 200), ids: ids.slice(200) },
          { ...apiBackends.env, POWERTOOLS_LOG_LEVEL: level },
          250,
        ),
        api,
      );
    }
  } finally {
    await apiBackends.close();
  }

  const remediationKeys = generatePendingKeys(warmN / 2 + 100, { prefix: 'profile-remediation' });
  const remediationBackends = await startBackends({
    fn: 'remediate-deletion',
    keys: remediationKeys,
    tls,
    users,
  });
  try {
    const events = remediationKeys.map(scheduleKeyDeletionEvent);
    await show(
      'warm remediation, WARN',
      await profileChild(
        'remediation-warm',
        out,
        harness,
        {
          mode: 'remediation-warm',
          file: remediation,
          warmupEvents: events.slice(0, 100),
          events: events.slice(100),
        },
        remediationBackends.env,
        250,
      ),
      remediation,
    );
  } finally {
    await remediationBackends.close();
  }

  const sweepBackends = await startBackends({
    fn: 'remediate-deletion',
    keys: generatePendingKeys(sweepKeys, { prefix: 'profile-sweep' }),
    tls,
    users,
  });
  try {
    await show(
      `sweep of ${sweepKeys} keys`,
      await profileChild(
        'sweep',
        out,
        harness,
        { mode: 'sweep', file: remediation, event: sweepEvent() },
        sweepBackends.env,
        1000,
      ),
      remediation,
    );
  } finally {
    await sweepBackends.close();
  }
  process.stdout.write(report.join('\n'));
}

runWhenEntry(import.meta.url, 'profile', main);
