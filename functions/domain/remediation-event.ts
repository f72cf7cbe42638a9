import { HEARTBEAT_RULE_NAME } from '../shared/telemetry.ts';
import { isAccountId, isRegion } from './aws-key-ref.ts';
import {
  DEFAULT_PENDING_WINDOW_DAYS,
  deriveDeletionDate,
  parseDeletionDate,
  parsePendingWindow,
} from './deletion-date.ts';
import type { Actor, EventKey } from './event-identity.ts';
import { readActor, resolveEventKey } from './event-identity.ts';
import type { Json } from './event-json.ts';
import { obj, str } from './event-json.ts';

/**
 * Turns whatever EventBridge delivers into one of the remediation's event kinds (contract section 4).
 * Input is `unknown` on purpose: a rule can be misconfigured, a test can send garbage, and neither
 * may crash the function; what cannot be recognised is `ignored`.
 */

interface EventBase {
  /** `detail.eventID` for CloudTrail (the dedupe key), else the envelope `id`. */
  readonly eventId: string;
  readonly eventTime?: string;
  readonly account?: string;
  readonly region?: string;
}

/** A successful `ScheduleKeyDeletion`: the key named is pending deletion now. */
export interface ScheduleEvent extends EventBase {
  readonly kind: 'schedule-key-deletion';
  readonly actor: Actor;
  readonly key: EventKey;
  readonly pendingWindowInDays: number;
  readonly deletionDate?: string;
}

/** A `ScheduleKeyDeletion` that failed (`errorCode` set): nothing was scheduled, a person is told. */
export interface DeniedEvent extends EventBase {
  readonly kind: 'denied-attempt';
  readonly actor: Actor;
  readonly key: EventKey;
  readonly errorCode: string;
  readonly errorMessage?: string;
  readonly pendingWindowInDays?: number;
}

/** An event that names no key: every key CCKM lists as pending deletion is checked. */
export interface SweepEvent extends EventBase {
  readonly kind: 'sweep';
  readonly trigger: 'alarm' | 'schedule' | 'unresolved-key';
  /** Alarm name or rule ARN, for the log. */
  readonly origin?: string;
}

/** A spoke's hourly heartbeat: the (account, Region) it came from is forwarding to the hub. */
export interface HeartbeatEvent extends EventBase {
  readonly kind: 'heartbeat';
  readonly account: string;
  readonly region: string;
  /** ISO 8601: the event's `time`. */
  readonly time: string;
  /** The heartbeat rule's ARN. */
  readonly rule: string;
}

/** Anything else: logged and ignored, never an error. */
export interface IgnoredEvent extends EventBase {
  readonly kind: 'ignored';
  readonly reason: string;
}

export type RemediationEvent = ScheduleEvent | DeniedEvent | SweepEvent | HeartbeatEvent | IgnoredEvent;

/** Classifies an EventBridge event; never throws, whatever the input. */
export function classifyEvent(input: unknown): RemediationEvent {
  try {
    return classify(input);
  } catch {
    // Defensive: a getter or a proxy in a hand-made event must not turn into a retry loop.
    return ignored({ eventId: 'unknown' }, 'event could not be read');
  }
}

function classify(input: unknown): RemediationEvent {
  const event = obj(input);
  if (!event) {
    return ignored({ eventId: 'unknown' }, 'not an EventBridge event (not a JSON object)');
  }
  const source = str(event.source, 256);
  const detailType = str(event['detail-type'], 256);
  const detail = obj(event.detail);
  const base: EventBase = {
    eventId: str(event.id, 256) ?? 'unknown',
    eventTime: str(event.time, 64),
    account: isAccountId(event.account) ? event.account : undefined,
    region: isRegion(event.region) ? event.region : undefined,
  };

  if (source === 'aws.kms' && detailType === 'AWS API Call via CloudTrail') {
    if (!detail) return ignored(base, 'CloudTrail event without detail');
    const eventName = str(detail.eventName, 256);
    if (eventName !== 'ScheduleKeyDeletion') {
      return ignored(base, `CloudTrail event ${eventName ?? '(no eventName)'} is not ScheduleKeyDeletion`);
    }
    return classifySchedule(base, detail);
  }
  if (source === 'aws.cloudwatch' && detailType === 'CloudWatch Alarm State Change') {
    const state = str(obj(detail?.state)?.value, 64);
    const alarmName = str(detail?.alarmName, 256);
    if (state !== 'ALARM') {
      return ignored(base, `alarm ${alarmName ?? '(unnamed)'} went to ${state ?? '(no state)'}, not ALARM`);
    }
    return sweepOf(base, 'alarm', alarmName);
  }
  if (source === 'aws.events' && detailType === 'Scheduled Event') {
    const resources = Array.isArray(event.resources) ? event.resources : [];
    const heartbeatRule = resources.find(isHeartbeatRule);
    if (heartbeatRule !== undefined) return classifyHeartbeat(base, heartbeatRule);
    return sweepOf(base, 'schedule', str(resources[0], 2048));
  }
  return ignored(base, `unhandled event ${source ?? '(no source)'} / ${detailType ?? '(no detail-type)'}`);
}

function ignored(base: EventBase, reason: string): IgnoredEvent {
  return { ...base, kind: 'ignored', reason };
}

function sweepOf(base: EventBase, trigger: SweepEvent['trigger'], origin: string | undefined): SweepEvent {
  return { ...base, kind: 'sweep', trigger, origin };
}

/** `arn:<partition>:events:<region>:<account>:rule/cckm-deletion-guard-heartbeat*` (contract section 4). */
function isHeartbeatRule(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 2048) return false;
  const parts = value.split(':');
  return (
    parts.length === 6 &&
    parts[0] === 'arn' &&
    parts[2] === 'events' &&
    (parts[5] ?? '').startsWith(`rule/${HEARTBEAT_RULE_NAME}`)
  );
}

/** A heartbeat is never a sweep; one that does not say where and when it is from is ignored. */
function classifyHeartbeat(base: EventBase, rule: string): RemediationEvent {
  // A missing time parses to NaN, as an unreadable one does.
  const time = Number.isNaN(Date.parse(base.eventTime ?? '')) ? undefined : base.eventTime;
  if (base.account === undefined || base.region === undefined || time === undefined) {
    return ignored(base, `heartbeat from ${rule.slice(0, 300)} without a valid account, region and time`);
  }
  return { ...base, kind: 'heartbeat', account: base.account, region: base.region, time, rule };
}

function classifySchedule(envelope: EventBase, detail: Json): RemediationEvent {
  const region = isRegion(detail.awsRegion) ? detail.awsRegion : envelope.region;
  const account = isAccountId(detail.recipientAccountId) ? detail.recipientAccountId : envelope.account;
  const base: EventBase = {
    // CloudTrail's eventID survives EventBridge re-delivery and forwarding; the envelope id may not.
    eventId: str(detail.eventID, 256) ?? envelope.eventId,
    eventTime: str(detail.eventTime, 64) ?? envelope.eventTime,
    account,
    region,
  };
  const actor = readActor(detail.userIdentity);
  const request = obj(detail.requestParameters);
  const response = obj(detail.responseElements);
  const key = resolveEventKey(detail, region, account);
  const errorCode = str(detail.errorCode, 256);
  if (errorCode !== undefined) {
    return {
      ...base,
      kind: 'denied-attempt',
      actor,
      key,
      errorCode,
      errorMessage: str(detail.errorMessage, 1024),
      pendingWindowInDays: parsePendingWindow(request?.pendingWindowInDays),
    };
  }
  if (!key.ref) {
    // A successful schedule always returns the key ARN; if neither it nor a usable KeyId is there,
    // the event is malformed, and a sweep still finds whatever was scheduled.
    return sweepOf(base, 'unresolved-key', key.given);
  }
  const pendingWindowInDays =
    parsePendingWindow(response?.pendingWindowInDays) ??
    parsePendingWindow(request?.pendingWindowInDays) ??
    DEFAULT_PENDING_WINDOW_DAYS;
  return {
    ...base,
    kind: 'schedule-key-deletion',
    actor,
    key,
    pendingWindowInDays,
    deletionDate:
      parseDeletionDate(response?.deletionDate) ?? deriveDeletionDate(base.eventTime, pendingWindowInDays),
  };
}
