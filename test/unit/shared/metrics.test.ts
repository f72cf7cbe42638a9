import { describe, expect, it } from 'vitest';
import { type MetricsTarget, recordGuardMetric, recordOutcomes } from '../../../functions/shared/metrics.ts';

function capture(enabled = true, namespace = 'CckmDeletionGuard') {
  const lines: string[] = [];
  const target: MetricsTarget = {
    namespace,
    enabled,
    write: (l) => lines.push(l),
    now: () => 1_700_000_000_000,
  };
  return { target, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('EMF lines', () => {
  it('puts the first outcome and Events on one line, each metric under its own dimension set', () => {
    const { target, parsed } = capture();
    recordOutcomes(target, 'schedule-key-deletion', { cancelled: 1 });
    expect(parsed()).toEqual([
      {
        _aws: {
          Timestamp: 1_700_000_000_000,
          CloudWatchMetrics: [
            {
              Namespace: 'CckmDeletionGuard',
              Dimensions: [['service', 'outcome']],
              Metrics: [{ Name: 'Outcome', Unit: 'Count' }],
            },
            {
              Namespace: 'CckmDeletionGuard',
              Dimensions: [['service', 'kind']],
              Metrics: [{ Name: 'Events', Unit: 'Count' }],
            },
          ],
        },
        service: 'cckm-deletion-guard',
        outcome: 'cancelled',
        Outcome: 1,
        kind: 'schedule-key-deletion',
        Events: 1,
      },
    ]);
  });

  it('writes each further outcome on a line of its own, skips zero counts, and Events alone without outcomes', () => {
    const { target, parsed } = capture(true, 'Other "ns"');
    recordOutcomes(target, 'sweep', { cancelled: 2, exempt: 0, failed: 1 });
    recordOutcomes(target, 'ignored', {});
    const lines = parsed();
    expect(lines.map((l) => [l.outcome, l.Outcome, l.kind, l.Events])).toEqual([
      ['cancelled', 2, 'sweep', 1],
      ['failed', 1, undefined, undefined],
      [undefined, undefined, 'ignored', 1],
    ]);
    const aws = lines[1]?._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
    expect(aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Other "ns"',
        Dimensions: [['service', 'outcome']],
        Metrics: [{ Name: 'Outcome', Unit: 'Count' }],
      },
    ]);
  });

  it('writes each target under its own namespace, whichever namespace was written before', () => {
    const first = capture(true, 'First');
    const second = capture(true, 'Second');
    recordOutcomes(first.target, 'schedule-key-deletion', { cancelled: 1, failed: 1 });
    recordOutcomes(second.target, 'sweep', { failed: 1 });
    recordOutcomes(first.target, 'ignored', {});
    const namespaces = (lines: Record<string, unknown>[]) =>
      lines.map((l) =>
        (l._aws as { CloudWatchMetrics: { Namespace: string }[] }).CloudWatchMetrics.map((d) => d.Namespace),
      );
    expect(namespaces(first.parsed())).toEqual([['First', 'First'], ['First'], ['First']]);
    expect(namespaces(second.parsed())).toEqual([['Second', 'Second']]);
    expect(first.lines[0]).toBe(
      '{"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"First","Dimensions":[["service","outcome"]],"Metrics":[{"Name":"Outcome","Unit":"Count"}]},{"Namespace":"First","Dimensions":[["service","kind"]],"Metrics":[{"Name":"Events","Unit":"Count"}]}]},"service":"cckm-deletion-guard","outcome":"cancelled","Outcome":1,"kind":"schedule-key-deletion","Events":1}',
    );
  });

  it('writes a guard counter with the service dimension only', () => {
    const { target, parsed } = capture();
    recordGuardMetric(target, 'NotificationsFailed', 1);
    recordGuardMetric(target, 'SilentSpokes', 3);
    expect(
      parsed().map((l) => [
        (l._aws as { CloudWatchMetrics: unknown[] }).CloudWatchMetrics,
        l.NotificationsFailed ?? l.SilentSpokes,
      ]),
    ).toEqual([
      [
        [
          {
            Namespace: 'CckmDeletionGuard',
            Dimensions: [['service']],
            Metrics: [{ Name: 'NotificationsFailed', Unit: 'Count' }],
          },
        ],
        1,
      ],
      [
        [
          {
            Namespace: 'CckmDeletionGuard',
            Dimensions: [['service']],
            Metrics: [{ Name: 'SilentSpokes', Unit: 'Count' }],
          },
        ],
        3,
      ],
    ]);
  });

  it('writes nothing when metrics are disabled', () => {
    const { target, lines } = capture(false);
    recordOutcomes(target, 'sweep', { cancelled: 2 });
    recordGuardMetric(target, 'LedgerErrors', 1);
    expect(lines).toEqual([]);
  });
});
