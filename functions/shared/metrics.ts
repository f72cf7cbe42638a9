import { metricsEnabled, metricsNamespace } from './config.ts';
import { type GuardMetric, OUTCOME_DIMENSION, OUTCOME_METRIC, SERVICE_NAME } from './telemetry.ts';

/**
 * CloudWatch metrics in Embedded Metric Format, written by hand as one JSON line each (what Powertools
 * `Metrics` wrote, without a `Metrics` object, a `Console` and a serialisation per line: BENCHMARKS.md).
 * The dashboard (infra `OUTCOME_METRIC`) reads metric `Outcome` (Count, statistic Sum) in namespace
 * `POWERTOOLS_METRICS_NAMESPACE` (default `CckmDeletionGuard`) with exactly the dimensions `service` =
 * `cckm-deletion-guard` and `outcome`; a different dimension set would be a different metric to
 * CloudWatch. Each metric keeps its own dimension set: a line may hold several metric directives
 * (the EMF specification's `CloudWatchMetrics` array), and CloudWatch applies each directive's
 * dimensions to that directive's metrics only.
 */

/** Per invocation, dimension `kind`: how many events of each event kind arrived (plus `service`). */
export const EVENT_METRIC = 'Events';

/** Where the EMF lines go, and whether they are written at all. */
export interface MetricsTarget {
  readonly namespace: string;
  /** False when Powertools would write no metrics: `POWERTOOLS_METRICS_DISABLED`, else `POWERTOOLS_DEV`. */
  readonly enabled: boolean;
  /** Writes one line; the newline is added here. Default: stdout, as Powertools does. */
  readonly write?: (line: string) => void;
  /** Epoch ms of the lines' `Timestamp` (default `Date.now`). */
  readonly now?: () => number;
}

/** The metrics target of a function: this container's namespace, to stdout. */
export const metrics: MetricsTarget = { namespace: metricsNamespace, enabled: metricsEnabled };

const writeStdout = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** One metric directive (unit Count) under `service` and `dimension` (if any), as JSON. */
function directive(namespace: string, dimension: string, metric: string): string {
  return `{"Namespace":${JSON.stringify(namespace)},"Dimensions":[["service"${dimension && `,"${dimension}"`}]],"Metrics":[{"Name":"${metric}","Unit":"Count"}]}`;
}

/** Writes one EMF line: the directives, `service`, then the line's own members. */
function line(target: MetricsTarget, directives: string, members: string): void {
  (target.write ?? writeStdout)(
    `{"_aws":{"Timestamp":${(target.now ?? Date.now)()},"CloudWatchMetrics":[${directives}]},"service":"${SERVICE_NAME}",${members}}`,
  );
}

/** The `Outcome` and `Events` directives of the last namespace seen: the same text at every invocation. */
let directives: { namespace: string; outcomes: string; events: string; both: string } | undefined;

function directivesOf(namespace: string): { outcomes: string; events: string; both: string } {
  if (directives?.namespace !== namespace) {
    const outcomes = directive(namespace, OUTCOME_DIMENSION, OUTCOME_METRIC);
    const events = directive(namespace, 'kind', EVENT_METRIC);
    directives = { namespace, outcomes, events, both: `${outcomes},${events}` };
  }
  return directives;
}

/**
 * An invocation's metrics: one `Outcome` datapoint per outcome that occurred (dimensions `service`,
 * `outcome`; valued at its count, which sums like one per key) and one `Events` datapoint (dimensions
 * `service`, `kind`). The first outcome shares its line with `Events` (two directives, each with its own
 * dimension set); each further outcome has a line of its own, since `outcome` takes one value per line.
 */
export function recordOutcomes(
  target: MetricsTarget,
  eventKind: string,
  summary: Readonly<Record<string, number | undefined>>,
): void {
  if (!target.enabled) return;
  const { outcomes, events, both } = directivesOf(target.namespace);
  const eventsMembers = `"kind":${JSON.stringify(eventKind)},"${EVENT_METRIC}":1`;
  let first = true;
  for (const outcome of Object.keys(summary)) {
    const count = summary[outcome];
    if (!count) continue;
    const members = `"${OUTCOME_DIMENSION}":${JSON.stringify(outcome)},"${OUTCOME_METRIC}":${count}`;
    if (first) line(target, both, `${members},${eventsMembers}`);
    else line(target, outcomes, members);
    first = false;
  }
  if (first) line(target, events, eventsMembers);
}

/**
 * Emits one datapoint of a guard counter (`LedgerErrors`, `NotificationsFailed`, `SilentSpokes`) with only
 * the `service` dimension, on its own EMF line, so the alarms read it whatever the event kind was.
 */
export function recordGuardMetric(target: MetricsTarget, name: GuardMetric, value: number): void {
  if (!target.enabled) return;
  line(target, directive(target.namespace, '', name), `"${name}":${JSON.stringify(value)}`);
}
