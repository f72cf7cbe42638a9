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

/**
 * Counters of the remediation function, each with only the `service` dimension (unit Count, statistic
 * Sum): a ledger call that failed, a notification that could not be published, and, per sweep with a
 * ledger, the number of spoke (account, Region) pairs silent for more than 2 hours.
 */
export const LEDGER_ERRORS_METRIC = 'LedgerErrors';
export const NOTIFICATIONS_FAILED_METRIC = 'NotificationsFailed';
export const SILENT_SPOKES_METRIC = 'SilentSpokes';
