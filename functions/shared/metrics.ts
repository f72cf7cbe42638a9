import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { metricsNamespace } from './config.ts';
import {
  LEDGER_ERRORS_METRIC,
  NOTIFICATIONS_FAILED_METRIC,
  OUTCOME_DIMENSION,
  OUTCOME_METRIC,
  SERVICE_NAME,
  SILENT_SPOKES_METRIC,
} from './telemetry.ts';

/**
 * CloudWatch metrics in Embedded Metric Format. The dashboard (infra `OUTCOME_METRIC`) reads metric
 * `Outcome` (Count, statistic Sum) in namespace `POWERTOOLS_METRICS_NAMESPACE` (default
 * `CckmDeletionGuard`) with exactly the dimensions `service` = `cckm-deletion-guard` and `outcome`;
 * a different dimension set would be a different metric to CloudWatch.
 */

/** Per invocation, dimension `kind`: how many events of each event kind arrived (plus Powertools' `service`). */
export const EVENT_METRIC = 'Events';

/** The one metrics instance of a function, flushed by the `logMetrics` middleware. */
export const metrics = new Metrics({ namespace: metricsNamespace, serviceName: SERVICE_NAME });

/** Emits one `Outcome` datapoint per outcome that occurred (counts by outcome name), valued at its count. */
export function recordOutcomes(
  target: Metrics,
  eventKind: string,
  summary: Readonly<Record<string, number | undefined>>,
): void {
  for (const [outcome, count] of Object.entries(summary)) {
    if (!count) continue;
    // A single metric flushes on its own line, so each outcome carries its own dimension value; it
    // inherits the default `service` dimension. One datapoint valued at the count sums like one per key.
    const single = target.singleMetric();
    single.addDimension(OUTCOME_DIMENSION, outcome);
    single.addMetric(OUTCOME_METRIC, MetricUnit.Count, count);
  }
  // Also keeps the middleware's flush from warning about an empty buffer on ignored events.
  target.addDimension('kind', eventKind);
  target.addMetric(EVENT_METRIC, MetricUnit.Count, 1);
}

/** The counters the remediation domain reports, by the names its port uses. */
const GUARD_METRICS = {
  LedgerErrors: LEDGER_ERRORS_METRIC,
  NotificationsFailed: NOTIFICATIONS_FAILED_METRIC,
  SilentSpokes: SILENT_SPOKES_METRIC,
} as const;

/**
 * Emits one datapoint of a guard counter (`LedgerErrors`, `NotificationsFailed`, `SilentSpokes`) with only
 * the `service` dimension, on its own EMF line, so the alarms read it whatever the event kind was.
 */
export function recordGuardMetric(target: Metrics, name: keyof typeof GUARD_METRICS, value: number): void {
  const single = target.singleMetric();
  single.addMetric(GUARD_METRICS[name], MetricUnit.Count, value);
}
