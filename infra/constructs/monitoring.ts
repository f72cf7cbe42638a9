import { Aws, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { OUTCOMES } from '../../functions/domain/remediation-outcome.ts';
import {
  DEFAULT_METRICS_NAMESPACE,
  LEDGER_ERRORS_METRIC,
  NOTIFICATIONS_FAILED_METRIC,
  OUTCOME_DIMENSION,
  OUTCOME_METRIC,
  SERVICE_NAME,
  SILENT_SPOKES_METRIC,
} from '../../functions/shared/telemetry.ts';
import { GUARD_ALARM_PREFIX } from '../context.ts';

/** The documented CloudTrail metric for use of a key pending deletion. */
export const PENDING_DELETION_METRIC = {
  namespace: 'CloudTrailLogMetrics',
  metricName: 'KMSKeyPendingDeletionErrorCount',
  filterPattern: '{ $.eventSource = kms* && $.errorMessage = "* is pending deletion."}',
} as const;

export interface MonitoringProps {
  /** Prefix of the operational alarm names (the stack name). */
  readonly namePrefix: string;
  readonly alarmTopic: sns.ITopic;
  readonly cancelFunction: lambda.IFunction;
  readonly remediationFunction: lambda.IFunction;
  /** The remediation function's log group: the audit lines the per-account and per-Region views query. */
  readonly remediationLogGroup: logs.ILogGroup;
  readonly deadLetterQueue: sqs.Queue;
  /** The CloudTrail log group to watch for use of keys pending deletion; none: no such alarm. */
  readonly cloudTrailLogGroupName: string | undefined;
}

/**
 * The functions' own EMF metrics the alarms watch. Powertools adds exactly one dimension to them,
 * `service`; an alarm with any other dimension set would watch a series that never receives a point.
 */
export function guardMetric(metricName: string, statistic: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: DEFAULT_METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME },
    statistic,
    period,
  });
}

/**
 * Logs Insights queries of the dashboard over the remediation function's audit lines (one line per key,
 * with `outcome`, `account` and `region`, functions/remediate-deletion.ts). Views per source account and
 * Region come from these, not from per-account metric dimensions (0.30 USD a month per series).
 * `coalesce` also reads the identity nested under `key`, should the audit line ever nest it.
 */
export const AUDIT_QUERIES = {
  perAccountAndRegion: [
    'filter ispresent(outcome)',
    'fields coalesce(account, key.account) as sourceAccount, coalesce(region, key.region) as sourceRegion',
    'stats count(*) as keys by sourceAccount, sourceRegion, outcome',
    'sort keys desc',
    'limit 100',
  ],
  latestPerAccountAndRegion: [
    'filter ispresent(outcome)',
    'fields coalesce(account, key.account) as sourceAccount, coalesce(region, key.region) as sourceRegion',
    'stats latest(outcome) as lastOutcome, max(@timestamp) as lastSeen, count(*) as keys by sourceAccount, sourceRegion',
    'sort lastSeen desc',
    'limit 100',
  ],
} as const;

/**
 * Alarms (function errors and throttles, dead letters, failed notifications, ledger errors, silent
 * spokes, optional use of a key pending deletion) and the dashboard. The dashboard reads the functions' own metric names (functions/shared/telemetry.ts): a
 * dashboard built from other names would stay empty without any error. Resources are added to `scope`
 * directly, not under a construct of their own, so a deployed stack keeps every logical id.
 */
export class Monitoring {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, props: MonitoringProps) {
    if (props.cloudTrailLogGroupName)
      pendingDeletionAlarm(scope, props.cloudTrailLogGroupName, props.alarmTopic);
    operationalAlarms(scope, props);
    this.dashboard = dashboard(scope, props);
  }
}

function pendingDeletionAlarm(scope: Construct, logGroupName: string, alarmTopic: sns.ITopic): void {
  const trailLogs = logs.LogGroup.fromLogGroupName(scope, 'CloudTrailLogGroup', logGroupName);
  new logs.MetricFilter(scope, 'PendingDeletionMetricFilter', {
    logGroup: trailLogs,
    filterPattern: logs.FilterPattern.literal(PENDING_DELETION_METRIC.filterPattern),
    metricNamespace: PENDING_DELETION_METRIC.namespace,
    metricName: PENDING_DELETION_METRIC.metricName,
    metricValue: '1',
  });
  // Named with the guard prefix, so the alarm rule turns its ALARM into a sweep; people hear of it too.
  const alarm = new cloudwatch.Alarm(scope, 'PendingDeletionAlarm', {
    alarmName: `${GUARD_ALARM_PREFIX}-key-pending-deletion-used`,
    alarmDescription: 'A KMS key pending deletion was used (CloudTrail); the guard sweeps on ALARM',
    metric: new cloudwatch.Metric({
      namespace: PENDING_DELETION_METRIC.namespace,
      metricName: PENDING_DELETION_METRIC.metricName,
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new SnsAction(alarmTopic));
}

function operationalAlarms(scope: Construct, props: MonitoringProps): void {
  // These names must not start with GUARD_ALARM_PREFIX: an ALARM here would otherwise trigger a sweep.
  const action = new SnsAction(props.alarmTopic);
  const alarm = (id: string, name: string, description: string, metric: cloudwatch.IMetric) => {
    const a = new cloudwatch.Alarm(scope, id, {
      alarmName: `${props.namePrefix}-${name}`,
      alarmDescription: description,
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    a.addAlarmAction(action);
    return a;
  };
  const period = Duration.minutes(5);
  for (const [key, fn] of [
    ['cancel-deletion', props.cancelFunction],
    ['remediate-deletion', props.remediationFunction],
  ] as const) {
    const idBase = key === 'cancel-deletion' ? 'CancelDeletion' : 'RemediateDeletion';
    alarm(`${idBase}ErrorsAlarm`, `${key}-errors`, `${key} function errors`, fn.metricErrors({ period }));
    alarm(
      `${idBase}ThrottlesAlarm`,
      `${key}-throttles`,
      `${key} function throttled`,
      fn.metricThrottles({ period }),
    );
  }
  alarm(
    'DeadLetterQueueAlarm',
    'dead-letters',
    'Events the guard could not process are waiting in the dead-letter queue',
    props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period,
      statistic: cloudwatch.Stats.MAXIMUM,
    }),
  );
  alarm(
    'NotificationsFailedAlarm',
    'notifications-failed',
    'The guard could not publish a notification to its SNS topic (see the remediation log)',
    guardMetric(NOTIFICATIONS_FAILED_METRIC, cloudwatch.Stats.SUM, period),
  );
  alarm(
    'LedgerErrorsAlarm',
    'ledger-errors',
    'The guard could not read or write its ledger table; it keeps protecting keys, without memory',
    guardMetric(LEDGER_ERRORS_METRIC, cloudwatch.Stats.SUM, period),
  );
  // One data point per sweep (hourly by default): an hour's period keeps the alarm in ALARM between
  // sweeps while spokes stay silent, where 5 minutes would drop it back to OK after each point.
  alarm(
    'SilentSpokesAlarm',
    'silent-spokes',
    'Spoke account/Region pairs sent no heartbeat for more than 2 hours (the last sweep digest names them)',
    guardMetric(SILENT_SPOKES_METRIC, cloudwatch.Stats.MAXIMUM, Duration.hours(1)),
  );
}

function dashboard(scope: Construct, props: MonitoringProps): cloudwatch.Dashboard {
  const period = Duration.minutes(5);
  const fns = [props.cancelFunction, props.remediationFunction];
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    // Dashboards are global to the account: the Region keeps two deployments apart.
    dashboardName: `${props.namePrefix}-${Aws.REGION}`,
    defaultInterval: Duration.days(7),
  });
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Outcomes per kind',
      width: 24,
      stacked: true,
      left: OUTCOMES.map(
        (outcome) =>
          new cloudwatch.Metric({
            namespace: DEFAULT_METRICS_NAMESPACE,
            metricName: OUTCOME_METRIC,
            dimensionsMap: { service: SERVICE_NAME, [OUTCOME_DIMENSION]: outcome },
            statistic: cloudwatch.Stats.SUM,
            period,
            label: outcome,
          }),
      ),
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Function errors',
      width: 8,
      left: fns.map((f) => f.metricErrors({ period, statistic: cloudwatch.Stats.SUM })),
    }),
    new cloudwatch.GraphWidget({
      title: 'Duration p99',
      width: 8,
      left: fns.map((f) => f.metricDuration({ period, statistic: cloudwatch.Stats.p(99) })),
    }),
    new cloudwatch.GraphWidget({
      title: 'Dead-letter queue depth',
      width: 8,
      left: [
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period,
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
      ],
    }),
  );
  const logGroupNames = [props.remediationLogGroup.logGroupName];
  dashboard.addWidgets(
    new cloudwatch.LogQueryWidget({
      title: 'Keys decided per source account, Region and outcome (audit log)',
      width: 12,
      height: 8,
      logGroupNames,
      view: cloudwatch.LogQueryVisualizationType.TABLE,
      queryLines: [...AUDIT_QUERIES.perAccountAndRegion],
    }),
    new cloudwatch.LogQueryWidget({
      title: 'Last decision per source account and Region (audit log)',
      width: 12,
      height: 8,
      logGroupNames,
      view: cloudwatch.LogQueryVisualizationType.TABLE,
      queryLines: [...AUDIT_QUERIES.latestPerAccountAndRegion],
    }),
  );
  return dashboard;
}
