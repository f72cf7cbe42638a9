import { ConfigError } from './errors.ts';
import type { Checked, PolicySettings, Scope } from './settings.ts';
import {
  checkExemptTag,
  checkHttpsOrigin,
  checkMode,
  checkReenable,
  checkScope,
  DEFAULT_TIMEOUT_MS,
  given,
  isPrincipalPattern,
  listOf,
  ok,
  PRINCIPAL_PATTERN_DESCRIPTION,
  problem,
} from './settings.ts';
import { DEFAULT_METRICS_NAMESPACE } from './telemetry.ts';

/**
 * The only reader of `process.env`. Each group of variables is parsed once, at module load, by a table
 * that names, for each field of the config object, its variable and the rule that reads it; the result
 * is frozen. A bad variable does not crash the module: `requireConfig` throws a ConfigError naming it
 * at the first invocation, so the API answers 500 and the log says what is wrong. The rules are plain
 * functions rather than a zod schema: building and running the schemas cost ~14 ms of every cold start
 * (BENCHMARKS.md), for eight strings.
 */

type Env = Readonly<Record<string, string | undefined>>;

/** One variable's rule: its value from the raw string, or a problem naming the variable. */
type Rule<T> = (raw: string | undefined, name: string) => Checked<T>;

/** A field of a config object: the variable it is read from, and that variable's rule. */
type Variable<T> = readonly [name: string, rule: Rule<T>];

/** The config object a table of variables yields. */
type ValuesOf<V> = { readonly [K in keyof V]: V[K] extends Variable<infer T> ? T : never };

/**
 * Applies every rule to its variable and returns the fields, frozen with what they hold (a list or a
 * tag is shared by every invocation), or throws one ConfigError naming every bad variable (never its
 * value), in the order of the table.
 */
function parseWith<V extends Record<string, Variable<unknown>>>(env: Env, variables: V): ValuesOf<V> {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [field, [name, rule]] of Object.entries(variables)) {
    const checked = rule(env[name], name);
    // Every rule's problem is a sentence that starts with the variable's name.
    if (checked.ok) values[field] = Object.freeze(checked.value);
    else problems.push(checked.problem);
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  return Object.freeze(values) as ValuesOf<V>;
}

/** `true` / `false` in any case, around blanks; missing or empty means false. */
const bool: Rule<boolean> = (raw, name) => {
  if (!raw) return ok(false);
  const lower = raw.trim().toLowerCase();
  if (lower === 'true') return ok(true);
  if (lower === 'false') return ok(false);
  return problem(`${name} must be true or false`);
};

/** An optional value: blank means none, anything else must match `pattern` (`${name} must be ${what}`). */
function optionalMatching(pattern: RegExp, what: string): Rule<string | undefined> {
  return (raw, name) => {
    const v = given(raw);
    return v === undefined || pattern.test(v) ? ok(v) : problem(`${name} must be ${what}`);
  };
}

export interface ConnectionConfig {
  /** CipherTrust Manager origin, e.g. `https://cm.example.com` (no trailing slash). */
  readonly cckmUrl: string;
  readonly secretId: string;
  readonly tlsInsecure: boolean;
  readonly timeoutMs: number;
}

const connectionVariables = {
  cckmUrl: [
    'CCKM_URL',
    (raw, name): Checked<string> =>
      raw === undefined ? problem(`${name} is required`) : checkHttpsOrigin(raw, name),
  ],
  secretId: [
    'CCKM_SECRET_ID',
    (raw, name): Checked<string> => {
      const v = given(raw);
      if (v === undefined) return problem(`${name} is required`);
      return v.length > 2048 ? problem(`${name} is too long`) : ok(v);
    },
  ],
  tlsInsecure: ['CCKM_TLS_INSECURE', bool],
  timeoutMs: [
    'CCKM_TIMEOUT_MS',
    (raw, name): Checked<number> => {
      const v = given(raw);
      if (v === undefined) return ok(DEFAULT_TIMEOUT_MS);
      const n = Number(v);
      if (!Number.isInteger(n) || n < 100 || n > 900_000) {
        return problem(`${name} must be a whole number of milliseconds, 100 to 900000`);
      }
      return ok(n);
    },
  ],
} satisfies Record<keyof ConnectionConfig, Variable<unknown>>;

export interface PolicyConfig extends PolicySettings {
  readonly notifyTopicArn: string | undefined;
}

const policyVariables = {
  // An empty value means the default, as it already does for the other policy variables: a deployment
  // that forwards an unset setting as '' must not stop the function.
  mode: ['MODE', checkMode],
  reenable: ['REENABLE', checkReenable],
  allowedPrincipals: [
    'ALLOWED_PRINCIPALS',
    (raw, name): Checked<string[]> => {
      const list = listOf(raw);
      const bad = list.find((p) => !isPrincipalPattern(p));
      return bad === undefined
        ? ok(list)
        : problem(`${name} has an entry that is not ${PRINCIPAL_PATTERN_DESCRIPTION}: ${bad.slice(0, 200)}`);
    },
  ],
  exemptTag: ['EXEMPT_TAG', checkExemptTag],
  notifyTopicArn: [
    'NOTIFY_TOPIC_ARN',
    optionalMatching(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/, 'an SNS topic ARN'),
  ],
} satisfies Record<keyof PolicyConfig, Variable<unknown>>;

/** The accounts and Regions this deployment protects (contract section 4, scope). */
export interface ScopeConfig {
  readonly accounts: Scope;
  readonly regions: Scope;
}

/** Scope, plus whether a sweep ends by starting a CCKM synchronization job. */
export interface ReachConfig {
  readonly scope: ScopeConfig;
  readonly sweepSync: boolean;
}

const reachVariables = {
  accounts: ['SCOPE_ACCOUNTS', (raw, name) => checkScope(raw, name, 'accounts')],
  regions: ['SCOPE_REGIONS', (raw, name) => checkScope(raw, name, 'regions')],
  sweepSync: ['SWEEP_SYNC', bool],
} satisfies Record<string, Variable<unknown>>;

/** Parses the CipherTrust Manager connection variables; throws ConfigError naming each bad one. */
export const parseConnectionConfig = (env: Env): ConnectionConfig => parseWith(env, connectionVariables);

/** Parses the remediation policy variables; throws ConfigError naming each bad one. */
export const parsePolicyConfig = (env: Env): PolicyConfig => parseWith(env, policyVariables);

/** Parses SCOPE_ACCOUNTS, SCOPE_REGIONS and SWEEP_SYNC; throws ConfigError naming each bad one. */
export function parseReachConfig(env: Env): ReachConfig {
  const { accounts, regions, sweepSync } = parseWith(env, reachVariables);
  return Object.freeze({ scope: Object.freeze({ accounts, regions }), sweepSync });
}

export interface LedgerConfig {
  /** The ledger table (contract section 7); undefined: no memory between events. */
  readonly tableName: string | undefined;
}

const ledgerVariables = {
  tableName: [
    'LEDGER_TABLE',
    // DynamoDB's own rule for a table name.
    optionalMatching(/^[A-Za-z0-9_.-]{3,255}$/, 'a DynamoDB table name: 3 to 255 of A-Z a-z 0-9 _ . -'),
  ],
} satisfies Record<keyof LedgerConfig, Variable<unknown>>;

/** Parses `LEDGER_TABLE`; throws ConfigError naming it when it is no table name. */
export const parseLedgerConfig = (env: Env): LedgerConfig => parseWith(env, ledgerVariables);

/** The outcome of parsing once at load: the value, or the error to throw at every invocation. */
export type Loaded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: ConfigError };

function load<T>(parse: (env: Env) => T): Loaded<T> {
  try {
    return { ok: true, value: parse(process.env) };
  } catch (error) {
    return { ok: false, error: error instanceof ConfigError ? error : new ConfigError(String(error)) };
  }
}

/** Returns the loaded value or throws its ConfigError. */
export function requireConfig<T>(loaded: Loaded<T>): T {
  if (!loaded.ok) throw loaded.error;
  return loaded.value;
}

/** Connection configuration of this container, parsed at module load. */
export const connection: Loaded<ConnectionConfig> = load(parseConnectionConfig);
/** Remediation policy of this container, parsed at module load. */
export const policy: Loaded<PolicyConfig> = load(parsePolicyConfig);
/** Ledger configuration of this container, parsed at module load. */
export const ledgerConfig: Loaded<LedgerConfig> = load(parseLedgerConfig);

/** Scope and SWEEP_SYNC of this container, parsed at module load (both functions read the scope). */
export const reach: Loaded<ReachConfig> = load(parseReachConfig);

/**
 * CloudWatch namespace of the guard's metrics: `POWERTOOLS_METRICS_NAMESPACE`, else `CckmDeletionGuard`
 * (the dashboard reads this namespace). Passed explicitly because an explicit namespace wins over the
 * variable inside Powertools.
 */
export const metricsNamespace: string = (() => {
  const v = process.env.POWERTOOLS_METRICS_NAMESPACE?.trim();
  return v && v.length <= 255 ? v : DEFAULT_METRICS_NAMESPACE;
})();

const TRUTHY = new Set(['1', 'y', 'yes', 't', 'true', 'on']);
const FALSY = new Set(['0', 'n', 'no', 'f', 'false', 'off']);

/** A Powertools-style boolean variable: its extended true/false spellings, else undefined. */
function powertoolsFlag(value: string | undefined): boolean | undefined {
  const v = value?.trim().toLowerCase();
  if (v === undefined) return undefined;
  if (TRUTHY.has(v)) return true;
  if (FALSY.has(v)) return false;
  return undefined;
}

/**
 * Whether the functions write metrics, as Powertools decides it: `POWERTOOLS_METRICS_DISABLED` when set,
 * else off in `POWERTOOLS_DEV`. An unreadable value leaves metrics on, where Powertools would throw at
 * import: a typo must neither stop the function nor silence the data its alarms read.
 */
export function metricsEnabledIn(env: Env): boolean {
  return !(powertoolsFlag(env.POWERTOOLS_METRICS_DISABLED) ?? powertoolsFlag(env.POWERTOOLS_DEV) ?? false);
}

/** Whether this container writes metrics, decided once at load. */
export const metricsEnabled: boolean = metricsEnabledIn(process.env);

/**
 * The Logger's two switches beyond Powertools' own reading, read when the logger or its middleware is
 * made (`logger.ts`): invocations may run at once in this process (`AWS_LAMBDA_MAX_CONCURRENCY`, Powertools'
 * own switch for its per-invocation stores), and a debug sample rate is set (`POWERTOOLS_LOGGER_SAMPLE_RATE`).
 */
export const loggerSwitches = (env: Env = process.env) => ({
  concurrent: !!env.AWS_LAMBDA_MAX_CONCURRENCY,
  sampled: Number(env.POWERTOOLS_LOGGER_SAMPLE_RATE) > 0,
});
