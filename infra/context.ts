/**
 * Deployment settings from CDK context (`-c key=value` or cdk.json). Pure: no CDK imports, so the
 * validation is unit-tested without synthesizing, and every message names the context key to fix.
 */

// The settings rules the functions apply too (a pure module: nothing else of the function code loads).
import type { Checked, Mode, Reenable } from '../functions/shared/settings.ts';
import {
  checkExemptTag,
  checkHttpsOrigin,
  checkMode,
  checkReenable,
  DEFAULT_EXEMPT_TAG,
  DEFAULT_MODE,
  DEFAULT_REENABLE,
  DEFAULT_TIMEOUT_MS,
  isPrincipalPattern,
  PRINCIPAL_PATTERN_DESCRIPTION,
} from '../functions/shared/settings.ts';
import { ContextError } from './context-error.ts';
import { HUB_CONTEXT_KEYS } from './hub-context.ts';

/** Alarm names the alarm rule matches: exact names and name prefixes. */
export interface AlarmNameMatch {
  readonly exact: readonly string[];
  readonly prefixes: readonly string[];
}

export interface GuardSettings {
  /** CipherTrust Manager origin, `https://host[:port]`, no trailing slash. */
  readonly cckmUrl: string;
  readonly cckmSecretName: string;
  readonly mode: Mode;
  readonly reenable: Reenable;
  readonly allowedPrincipals: readonly string[];
  /** `key=value`, as the remediation function's EXEMPT_TAG expects it. */
  readonly exemptTag: string;
  readonly notifyEmails: readonly string[];
  /** An EventBridge schedule expression, `rate(...)` or `cron(...)`. */
  readonly sweepSchedule: string;
  readonly alarmNames: AlarmNameMatch;
  readonly vpc: { readonly vpcId: string; readonly subnetIds: readonly string[] } | undefined;
  readonly cloudTrailLogGroupName: string | undefined;
  /** Accounts whose principals may call the API (resource policy); empty: no account restriction. */
  readonly allowedAccounts: readonly string[];
  /** When set, the API is private and reachable only through this interface VPC endpoint. */
  readonly vpcEndpointId: string | undefined;
  readonly tlsInsecure: boolean;
  readonly timeoutMs: number;
  readonly tracing: boolean;
  readonly reservedConcurrency: number | undefined;
}

/** Prefix of every alarm this guard creates that should trigger a sweep (and default alarm-rule prefix). */
export const GUARD_ALARM_PREFIX = 'cckm-deletion-guard';

/** The AWS-documented alarm for use of a key pending deletion, matched by default. */
export const DOCUMENTED_ALARM_NAME = 'KMSKeyPendingDeletionErrorAlarm';

export const DEFAULTS = {
  mode: DEFAULT_MODE,
  reenable: DEFAULT_REENABLE,
  exemptTag: DEFAULT_EXEMPT_TAG,
  sweepSchedule: 'rate(1 hour)',
  alarmNames: `${DOCUMENTED_ALARM_NAME},${GUARD_ALARM_PREFIX}*`,
  timeoutMs: DEFAULT_TIMEOUT_MS,
} as const;

/**
 * Upper bound of `timeoutMs`: the API function runs at most 28 s (API Gateway gives up at 29 s), and one
 * request may need more than one CipherTrust Manager call, so a single call's budget stays well below it.
 */
export const MAX_TIMEOUT_MS = 20_000;

/** Every context key the app reads; anything spelled like one of these but not equal is a typo. */
export const CONTEXT_KEYS = [
  'cckmUrl',
  'cckmSecretName',
  'mode',
  'reenable',
  'allowedPrincipals',
  'exemptTag',
  'notifyEmail',
  'sweepSchedule',
  'alarmNames',
  'vpcId',
  'subnetIds',
  'cloudTrailLogGroupName',
  'allowedAccounts',
  'vpcEndpointId',
  'tlsInsecure',
  'timeoutMs',
  'tracing',
  'reservedConcurrency',
  // Read by ./hub-context.ts (hub bus, scope, spokes): listed here so a misspelling is caught as well.
  ...HUB_CONTEXT_KEYS,
] as const;

export { ContextError };

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const EMAIL = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const VPCE_ID = /^vpce-[0-9a-f]{8,17}$/;
const ACCOUNT = /^\d{12}$/;
const LOG_GROUP = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const ALARM_NAME = /^[^\s,*][^,*]{0,254}\*?$/;
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((\S+ ){5}\S+\)$/;

/** Context values arrive as strings from `-c`, but cdk.json may hold booleans, numbers or arrays. */
function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map((v) => String(v)).join(',');
  const s = String(value).trim();
  return s === '' ? undefined : s;
}

function list(value: unknown): string[] {
  return (text(value) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** The value of a shared settings rule, or `fallback` with its problem recorded. */
function checkedValue<T>(checked: Checked<T>, fallback: T, problems: string[]): T {
  if (checked.ok) return checked.value;
  problems.push(checked.problem);
  return fallback;
}

function parseBool(key: string, value: unknown, problems: string[]): boolean {
  const s = text(value)?.toLowerCase();
  if (s === undefined || s === 'false') return false;
  if (s === 'true') return true;
  problems.push(`${key} must be true or false`);
  return false;
}

function parseInteger(key: string, value: unknown, min: number, max: number, problems: string[]) {
  const s = text(value);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${key} must be a whole number from ${min} to ${max} (got "${s.slice(0, 50)}")`);
    return undefined;
  }
  return n;
}

function parseSchedule(value: unknown, problems: string[]): string {
  const s = text(value) ?? DEFAULTS.sweepSchedule;
  const rate = RATE.exec(s);
  if (rate) {
    const n = Number(rate[1]);
    const singular = !rate[2]!.endsWith('s');
    if (n < 1 || (n === 1) !== singular) {
      problems.push(
        `sweepSchedule "${s}" is not valid: use rate(1 hour), rate(15 minutes), ... (singular unit only for 1)`,
      );
    }
    return s;
  }
  if (!CRON.test(s)) {
    problems.push(`sweepSchedule must be rate(...) or cron(...) with six fields (got "${s.slice(0, 100)}")`);
  }
  return s;
}

function parseAlarmNames(value: unknown, problems: string[]): AlarmNameMatch {
  const entries = list(text(value) ?? DEFAULTS.alarmNames);
  const exact: string[] = [];
  const prefixes: string[] = [];
  for (const e of entries) {
    if (!ALARM_NAME.test(e)) {
      problems.push(
        `alarmNames entry "${e.slice(0, 100)}" is not an alarm name (a trailing * makes it a prefix; at most 255 characters)`,
      );
    } else if (e.endsWith('*')) {
      prefixes.push(e.slice(0, -1));
    } else {
      exact.push(e);
    }
  }
  if (entries.length === 0) problems.push('alarmNames must name at least one alarm or prefix');
  return { exact, prefixes };
}

/** Checks every entry of a comma-separated list against a pattern, reporting the first bad one. */
function checkList(
  key: string,
  entries: string[],
  pattern: RegExp | ((entry: string) => boolean),
  what: string,
  problems: string[],
) {
  const accepts = typeof pattern === 'function' ? pattern : (e: string) => pattern.test(e);
  const bad = entries.find((e) => !accepts(e));
  if (bad !== undefined) problems.push(`${key} has an entry that is not ${what}: "${bad.slice(0, 200)}"`);
}

/** Validates the CDK context into deployment settings; throws ContextError listing every problem. */
export function parseGuardContext(context: Readonly<Record<string, unknown>>): GuardSettings {
  const problems: string[] = [];
  const known = new Set<string>(CONTEXT_KEYS);
  for (const key of Object.keys(context)) {
    const match = CONTEXT_KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
    if (match !== undefined && !known.has(key))
      problems.push(`unknown context key "${key}": did you mean "${match}"?`);
  }

  const rawUrl = text(context.cckmUrl);
  let cckmUrl = '';
  if (rawUrl === undefined) problems.push('cckmUrl is required: -c cckmUrl=https://cm.example.com');
  else cckmUrl = checkedValue(checkHttpsOrigin(rawUrl, 'cckmUrl', { echo: true }), rawUrl, problems);

  const cckmSecretName = text(context.cckmSecretName) ?? '';
  if (cckmSecretName === '') {
    problems.push('cckmSecretName is required: -c cckmSecretName=cckm/deletion-guard');
  } else if (!SECRET_NAME.test(cckmSecretName)) {
    problems.push(
      'cckmSecretName must be a Secrets Manager secret name (letters, digits and /_+=.@-, at most 512), not an ARN',
    );
  }

  const mode = checkedValue<Mode>(checkMode(text(context.mode), 'mode'), DEFAULTS.mode, problems);
  const reenable = checkedValue<Reenable>(
    checkReenable(text(context.reenable), 'reenable'),
    DEFAULTS.reenable,
    problems,
  );

  const allowedPrincipals = list(context.allowedPrincipals);
  checkList(
    'allowedPrincipals',
    allowedPrincipals,
    isPrincipalPattern,
    PRINCIPAL_PATTERN_DESCRIPTION,
    problems,
  );
  // Lambda caps all environment variables of a function at 4 KB together.
  if (allowedPrincipals.join(',').length > 2500) {
    problems.push(
      'allowedPrincipals is too long (over 2500 characters): use * wildcards to shorten the list',
    );
  }

  // Kept as the `key=value` text the remediation function's EXEMPT_TAG reads back with the same rule.
  const exemptTag = text(context.exemptTag) ?? DEFAULTS.exemptTag;
  checkedValue(checkExemptTag(exemptTag, 'exemptTag'), undefined, problems);

  const notifyEmails = list(context.notifyEmail);
  checkList('notifyEmail', notifyEmails, EMAIL, 'an e-mail address', problems);

  const sweepSchedule = parseSchedule(context.sweepSchedule, problems);
  const alarmNames = parseAlarmNames(context.alarmNames, problems);

  const vpcId = text(context.vpcId);
  const subnetIds = list(context.subnetIds);
  if (vpcId !== undefined && !VPC_ID.test(vpcId)) problems.push(`vpcId must look like vpc-0123456789abcdef0`);
  checkList('subnetIds', subnetIds, SUBNET_ID, 'a subnet id (subnet-...)', problems);
  if (vpcId !== undefined && subnetIds.length === 0) {
    problems.push('vpcId needs subnetIds too: -c subnetIds=subnet-aaa,subnet-bbb');
  }
  if (vpcId === undefined && subnetIds.length > 0)
    problems.push('subnetIds needs vpcId too: -c vpcId=vpc-...');

  const cloudTrailLogGroupName = text(context.cloudTrailLogGroupName);
  if (cloudTrailLogGroupName !== undefined && !LOG_GROUP.test(cloudTrailLogGroupName)) {
    problems.push('cloudTrailLogGroupName must be a CloudWatch Logs log group name');
  }

  const allowedAccounts = list(context.allowedAccounts);
  checkList('allowedAccounts', allowedAccounts, ACCOUNT, 'a 12-digit account id', problems);

  const vpcEndpointId = text(context.vpcEndpointId);
  if (vpcEndpointId !== undefined && !VPCE_ID.test(vpcEndpointId)) {
    problems.push('vpcEndpointId must look like vpce-0123456789abcdef0');
  }

  const tlsInsecure = parseBool('tlsInsecure', context.tlsInsecure, problems);
  const tracing = parseBool('tracing', context.tracing, problems);
  const timeoutMs =
    parseInteger('timeoutMs', context.timeoutMs, 1000, MAX_TIMEOUT_MS, problems) ?? DEFAULTS.timeoutMs;
  const reservedConcurrency = parseInteger(
    'reservedConcurrency',
    context.reservedConcurrency,
    1,
    1000,
    problems,
  );

  if (problems.length > 0) throw new ContextError(problems);

  return Object.freeze({
    cckmUrl,
    cckmSecretName,
    mode,
    reenable,
    allowedPrincipals: Object.freeze(allowedPrincipals),
    exemptTag,
    notifyEmails: Object.freeze(notifyEmails),
    sweepSchedule,
    alarmNames,
    vpc: vpcId === undefined ? undefined : { vpcId, subnetIds: Object.freeze(subnetIds) },
    cloudTrailLogGroupName,
    allowedAccounts: Object.freeze(allowedAccounts),
    vpcEndpointId,
    tlsInsecure,
    timeoutMs,
    tracing,
    reservedConcurrency,
  });
}
