import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AwsStandIns } from '../../local/aws/index.ts';
import { FunctionError, type FunctionHost } from '../../local/function-host.ts';
import type { Simulator } from '../../local/simulator/index.ts';
import {
  buildTestBundles,
  callApi,
  guardEnv,
  hostFunction,
  putRefreshSecret,
  SECRET_ID,
  sampleEvent,
  startBackends,
  stopAll,
} from '../helpers/local-bundles.ts';

/*
 * Issue 10: the real bundles (built as deployed) against the CipherTrust Manager simulator, each
 * case driving one fault across the wire and checking that the answer, the outcome and what reached
 * CipherTrust Manager tell the truth.
 */

interface Result {
  kind: string;
  outcomes: { outcome: string; reason: string; key: { cckmId?: string; arn?: string } }[];
  summary: Record<string, number>;
}
interface AuditLine {
  outcome: string;
  reason: string;
  cckmId?: string;
  arn?: string;
}

const KEY = '/api/v1/cckm/aws/keys/*';
const LIST = '/api/v1/cckm/aws/keys';
const CANCEL = '/api/v1/cckm/aws/keys/*/cancel-deletion';
const ENABLE = '/api/v1/cckm/aws/keys/*/enable';

let sim: Simulator;
let aws: AwsStandIns;
let apiBundle: string;
let remediateBundle: string;
let topicArn: string;
const output: string[] = [];
const hosts: FunctionHost[] = [];

const idOf = (name: string): string => sim.keys.byName(name).id;
const cancelPath = (id: string): string => `/keys/${encodeURIComponent(id)}/cancel-deletion`;
const statuses = (glob: string, method?: string): number[] =>
  sim.requestsTo(glob, method).map((e) => e.status);

const start = (
  bundle: string,
  name: 'cancel-deletion' | 'remediate-deletion',
  extra: Record<string, string>,
) =>
  hostFunction(
    hosts,
    bundle,
    name,
    {
      ...guardEnv(sim, aws),
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...extra,
    },
    (chunk) => output.push(chunk),
  );
const api = (extra: Record<string, string> = {}) => start(apiBundle, 'cancel-deletion', extra);
const remediation = (extra: Record<string, string> = {}) =>
  start(remediateBundle, 'remediate-deletion', { NOTIFY_TOPIC_ARN: topicArn, ...extra });

/** The audit lines ("remediation outcome") written since `from` (an index into `output`). */
const auditSince = (from: number): AuditLine[] =>
  output
    .slice(from)
    .join('')
    .split('\n')
    .filter((line) => line.includes('"remediation outcome"'))
    .map((line) => JSON.parse(line) as AuditLine);

/** Invokes, and returns the result or the error the function threw. */
const invoke = async (fn: FunctionHost, event: unknown): Promise<Result | FunctionError> =>
  fn.invoke<Result>(event).catch((e: unknown) => {
    if (e instanceof FunctionError) return e;
    throw e;
  });

describe('faults across the wire (issue 10), real bundles against the simulator', () => {
  beforeAll(async () => {
    ({ sim, aws } = await startBackends());
    [apiBundle, remediateBundle] = await buildTestBundles('cancel-deletion', 'remediate-deletion');
  }, 90_000);

  afterAll(() => stopAll(hosts, sim, aws));

  beforeEach(() => {
    sim.reset();
    aws.reset();
    topicArn = aws.sns.createTopic('deletion-guard');
    putRefreshSecret(aws, sim);
  });

  describe('defect 3: only "is not pending deletion" means not pending', () => {
    it.each([
      ['is pending deletion', '{arn} is pending deletion.'],
      ['is pending import', '{arn} is pending import.'],
    ])('answers 502 when KMS refuses the cancel saying the key %s', async (_label, text) => {
      const fn = await api();
      sim.faults.refuseCancelNext(1, text);
      const r = await callApi(fn, 'POST', cancelPath(idOf('payments')));
      expect(r.status).toBe(502);
      expect(r.body).toMatchObject({ error: 'BadGateway' });
      expect(statuses(CANCEL, 'POST')).toEqual([400]);
      sim.faults.assertAllConsumed();
    });

    it('reports the event failed (not not-pending) when the refusal says the key is pending deletion', async () => {
      const fn = await remediation();
      sim.faults.refuseCancelNext(1, '{arn} is pending deletion.');
      const from = output.length;
      const result = await invoke(fn, sampleEvent('schedule-key-deletion'));
      expect(result).toBeInstanceOf(FunctionError);
      expect(auditSince(from).map((a) => a.outcome)).toEqual(['failed']);
      expect(sim.keys.aws(idOf('ledger'))?.KeyState).toBe('PendingDeletion');
    });
  });

  describe("defect 10: getKey checks the answer's id", () => {
    it('answers 502 and cancels nothing when CCKM answers the key read with another id', async () => {
      const fn = await api();
      sim.faults.tamperNext(1, 'other-id', { method: 'GET', path: KEY });
      const r = await callApi(fn, 'POST', cancelPath(idOf('payments')));
      expect(r.status).toBe(502);
      expect(r.body).toMatchObject({ error: 'BadGateway' });
      expect(String(r.body.message)).toContain('another key');
      expect(sim.requestsTo(CANCEL)).toHaveLength(0);
      expect(sim.keys.aws(idOf('payments'))?.KeyState).toBe('PendingDeletion');
    });
  });

  describe('defect 2: a cancel whose answer was lost, then "not pending", is re-read', () => {
    it.each([504, 'reset'] as const)(
      'answers cancelled with the state after the request when the first answer was %s',
      async (lost) => {
        const fn = await api();
        sim.faults.loseAnswerNext(1, undefined, lost);
        const r = await callApi(fn, 'POST', cancelPath(idOf('payments')));
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject({ outcome: 'cancelled', keyState: 'Disabled', enabled: false });
        expect(statuses(CANCEL, 'POST')).toEqual([lost === 'reset' ? 0 : 504, 400]);
        expect(statuses(KEY, 'GET')).toEqual([200, 200]);
        sim.faults.assertAllConsumed();
      },
    );

    it('honours enable after a lost answer: the key ends Enabled', async () => {
      const fn = await api();
      sim.faults.loseAnswerNext(1);
      const r = await callApi(fn, 'POST', cancelPath(idOf('payments')), { enable: true });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ outcome: 'cancelled', keyState: 'Enabled', enabled: true });
      expect(sim.keys.aws(idOf('payments'))).toMatchObject({ KeyState: 'Enabled', Enabled: true });
      expect(statuses(ENABLE, 'POST')).toEqual([200]);
    });

    it('still answers not-pending for a key that was never pending, lost answer or not', async () => {
      const fn = await api();
      const r = await callApi(fn, 'POST', cancelPath(idOf('analytics')));
      expect(r.body).toMatchObject({ outcome: 'not-pending', keyState: 'Enabled' });
      expect(statuses(KEY, 'GET')).toEqual([200]);
    });

    it('re-enables on an event when the cancel answer was lost (stale copy showed Enabled), and notifies', async () => {
      const fn = await remediation();
      const orders = sim.keys.byName('orders');
      const event = sampleEvent('schedule-key-deletion');
      const detail = event.detail as Record<string, unknown>;
      event.region = orders.region;
      detail.awsRegion = orders.region;
      detail.requestParameters = { pendingWindowInDays: 7, keyId: orders.aws_param.KeyID };
      detail.responseElements = { keyId: orders.aws_param.Arn, keyState: 'PendingDeletion' };
      sim.faults.loseAnswerNext(1, undefined, 502);
      const result = await invoke(fn, event);
      expect(result).not.toBeInstanceOf(FunctionError);
      expect((result as Result).outcomes.map((o) => o.outcome)).toEqual(['cancelled-and-enabled']);
      expect(sim.keys.aws(orders.id)).toMatchObject({ KeyState: 'Enabled', Enabled: true });
      expect(aws.sns.messages.map((m) => JSON.parse(m.message).outcome)).toEqual(['cancelled-and-enabled']);
    });
  });

  describe('defect 4: one malformed listed record never stops the sweep', () => {
    it.each(['missing-arn', 'non-uuid-id'] as const)(
      'decides every other key and reports the record (%s) failed with its identity',
      async (tamper) => {
        const fn = await remediation();
        sim.faults.tamperNext(1, tamper, { method: 'GET', path: LIST }, 0);
        const from = output.length;
        const result = await invoke(fn, sampleEvent('sweep'));
        expect(result).toBeInstanceOf(FunctionError);
        const audit = auditSince(from);
        const failed = audit.filter((a) => a.outcome === 'failed');
        expect(failed).toHaveLength(1);
        expect(failed[0]!.reason).toContain('could not be read');
        expect(failed[0]!.cckmId ?? failed[0]!.arn).toBeTruthy();
        // Five keys pending: the unreadable one failed, the other four decided as usual.
        expect(
          audit
            .filter((a) => a.outcome !== 'failed')
            .map((a) => a.outcome)
            .sort(),
        ).toEqual(expect.arrayContaining(['exempt']));
        expect(audit).toHaveLength(5);
        // The sweep's one digest lists the failed record among its keys.
        expect(aws.sns.messages).toHaveLength(1);
        const items = (JSON.parse(aws.sns.messages[0]!.message) as { items: { outcome?: string }[] }).items;
        expect(items.map((i) => i.outcome)).toContain('failed');
      },
    );
  });

  describe('defect 7: a 401 storm mints one token', () => {
    it('re-mints once and reads the secret once when every concurrent cancel of a sweep gets a 401', async () => {
      const fn = await remediation();
      await invoke(fn, sampleEvent('denied-attempt')); // warm: no CM call
      sim.faults.failNext(4, 401, { method: 'POST', path: CANCEL });
      const readsBefore = aws.secrets.reads(SECRET_ID);
      const result = await invoke(fn, sampleEvent('sweep'));
      expect(result).not.toBeInstanceOf(FunctionError);
      expect((result as Result).summary).toMatchObject({ cancelled: 4, exempt: 1 });
      expect(statuses(CANCEL, 'POST').filter((s) => s === 401)).toHaveLength(4);
      // One grant for the cold start, one for the rejected token; one secret read for each.
      expect(sim.counters.tokenRequests.refresh_token).toBe(2);
      expect(aws.secrets.reads(SECRET_ID) - readsBefore).toBe(2);
    });

    it('labels the password grant and asks CM to revoke its unused refresh token', async () => {
      aws.secrets.put(SECRET_ID, {
        username: sim.credentials.username,
        password: sim.credentials.password,
        ca_cert: sim.caPem,
      });
      const fn = await api();
      expect((await callApi(fn, 'POST', cancelPath(idOf('payments')))).status).toBe(200);
      expect(sim.counters.lastPasswordGrant?.values).toMatchObject({
        grant_type: 'password',
        labels: ['cckm-deletion-guard'],
        refresh_token_revoke_unused_in: 60,
      });
    });
  });
});
