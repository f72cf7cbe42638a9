/**
 * The names the functions log and emit metrics under. The stack's environment and dashboard read the
 * same constants: a dashboard built from other names would stay empty without any error.
 */

/** Powertools `service` of every log line and metric (contract: fixed). */
export const SERVICE_NAME = 'cckm-deletion-guard';
/** CloudWatch namespace of the metrics when `POWERTOOLS_METRICS_NAMESPACE` does not name one. */
export const DEFAULT_METRICS_NAMESPACE = 'CckmDeletionGuard';
/** Metric counting decided keys (unit Count, statistic Sum), one data point per outcome per invocation. */
export const OUTCOME_METRIC = 'Outcome';
/** Dimension of `OUTCOME_METRIC` holding the outcome name, next to Powertools' `service`. */
export const OUTCOME_DIMENSION = 'outcome';
/** Failed SNS publishes (Count, Sum), dimension `service` only; the stack alarms on it (contract section 4). */
export const NOTIFICATIONS_FAILED_METRIC = 'NotificationsFailed';
/** Failed ledger reads and writes (Count, Sum), dimension `service` only; alarmed (contract section 7). */
export const LEDGER_ERRORS_METRIC = 'LedgerErrors';
/** Spoke (account, Region) pairs silent for more than 2 hours, per sweep (Count, Maximum); alarmed. */
export const SILENT_SPOKES_METRIC = 'SilentSpokes';
/** The guard's counters (`service` dimension only) by name, as the domain reports them. */
export type GuardMetric =
  | typeof LEDGER_ERRORS_METRIC
  | typeof NOTIFICATIONS_FAILED_METRIC
  | typeof SILENT_SPOKES_METRIC;
/**
 * Name (prefix) of a spoke's hourly heartbeat rule. The spokes create it (infra/event-patterns.ts) and
 * the remediation recognises a heartbeat by a `resources` entry naming a rule that starts with it.
 */
export const HEARTBEAT_RULE_NAME = 'cckm-deletion-guard-heartbeat';
