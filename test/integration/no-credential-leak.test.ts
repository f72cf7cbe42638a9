import { Agent, request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AwsStandIns } from '../../local/aws/index.ts';
import { FunctionError, type FunctionHost } from '../../local/function-host.ts';
import type { EchoFormat, Simulator } from '../../local/simulator/index.ts';
import {
  buildTestBundles,
  callApi,
  guardEnv,
  hostFunction,
  SECRET_ID,
  sampleEvent,
  startBackends,
  stopAll,
} from '../helpers/local-bundles.ts';

/*
 * Contract section 2, "No credential leaves the function", suite-wide: the simulator echoes the
 * request (body and Authorization header, as JSON, text, HTML and form-encoded) on every endpoint,
 * the token endpoint included, on retried and final statuses; the real API and remediation bundles
 * are driven through their flows; every log line, API body, notification and error is captured, and
 * no part of 8 or more characters of any credential, in any form, may appear in any of them.
 */

const TOKENS = '/api/v1/auth/tokens';
const KEY = '/api/v1/cckm/aws/keys/*';
const LIST = '/api/v1/cckm/aws/keys';
const CANCEL = '/api/v1/cckm/aws/keys/*/cancel-deletion';
const FORMATS: readonly EchoFormat[] = ['json', 'text', 'html', 'urlencoded'];
/** A password with characters that JSON and URL encoding change, and long plain runs between them. */
const PASSWORD = 'Pw"Kq8vTzR4mLx\\Nn2/Wb7+Ys5&Hc9=Jd3Fg6Vr1Eu0';

let sim: Simulator;
let aws: AwsStandIns;
let apiBundle: string;
let remediateBundle: string;
let topicArn: string;
/** Everything that left a function: log output, API bodies, notifications, errors. */
const captured: string[] = [];
const hosts: FunctionHost[] = [];
/** Every credential value the suite handed to a function. */
const credentials = new Set<string>();
let staticJwt: string;

/** The forms under which a value may be echoed: raw, JSON-escaped, URL-encoded, base64. */
function formsOf(value: string): string[] {
  const url = encodeURIComponent(value);
  return [
    value,
    JSON.stringify(value).slice(1, -1),
    JSON.stringify(JSON.stringify(value).slice(1, -1)).slice(1, -1),
    url,
    url.replace(/%20/g, '+'),
    Buffer.from(value).toString('base64').replace(/=+$/, ''),
  ];
}

/** Every 8-character part of every form of every credential found in `text`. */
function leaksIn(text: string): string[] {
  const parts = new Set<string>();
  for (const value of credentials) {
    for (const form of formsOf(value)) {
      for (let i = 0; i + 8 <= form.length; i++) parts.add(form.slice(i, i + 8));
    }
  }
  const found = new Set<string>();
  for (let i = 0; i + 8 <= text.length; i++) {
    const window = text.slice(i, i + 8);
    if (parts.has(window)) found.add(window);
  }
  return [...found];
}

const start = (bundle: string, functionName: 'cancel-deletion' | 'remediate-deletion') =>
  hostFunction(
    hosts,
    bundle,
    functionName,
    {
      ...guardEnv(sim, aws),
      CCKM_TIMEOUT_MS: '4000',
      NOTIFY_TOPIC_ARN: topicArn,
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
    (chunk) => captured.push(chunk),
  );

/** Calls the API and keeps its answer. */
const cancelApi = async (fn: FunctionHost, name: string, enable = false) => {
  const r = await callApi(fn, 'POST', `/keys/${sim.keys.byName(name).id}/cancel-deletion`, { enable });
  captured.push(JSON.stringify(r.body));
  return r;
};

/** Invokes the remediation and keeps its result or its error. */
const remediate = async (fn: FunctionHost, event: unknown) => {
  try {
    captured.push(JSON.stringify(await fn.invoke(event)));
  } catch (error) {
    if (!(error instanceof FunctionError)) throw error;
    captured.push(`${error.name}: ${error.message}`);
  }
};

type Secret = 'refresh_token' | 'password' | 'token';
const putSecret = (kind: Secret): void => {
  const fields =
    kind === 'refresh_token'
      ? { refresh_token: sim.credentials.refreshToken }
      : kind === 'password'
        ? { username: sim.credentials.username, password: PASSWORD }
        : { token: staticJwt };
  aws.secrets.put(SECRET_ID, { ca_cert: sim.caPem, ...fields });
};

/** A JWT minted by the simulator for the static-`token` secret: the bearer the function then sends. */
async function mintJwt(): Promise<string> {
  const dispatcher = new Agent({ connect: { ca: sim.caPem } });
  try {
    const r = await request(`${sim.url}${TOKENS}`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: sim.credentials.refreshToken }),
    });
    return ((await r.body.json()) as { jwt: string }).jwt;
  } finally {
    await dispatcher.close();
  }
}

describe('no credential leaves the function, whatever CipherTrust Manager echoes', () => {
  beforeAll(async () => {
    ({ sim, aws } = await startBackends());
    [apiBundle, remediateBundle] = await buildTestBundles('cancel-deletion', 'remediate-deletion');
  }, 90_000);

  afterAll(() => stopAll(hosts, sim, aws));

  beforeEach(async () => {
    sim.reset();
    aws.reset();
    sim.users.setPassword(sim.credentials.username, PASSWORD);
    staticJwt = await mintJwt();
    credentials.add(sim.credentials.refreshToken).add(PASSWORD).add(staticJwt);
    topicArn = aws.sns.createTopic('deletion-guard');
  });

  describe.each(['refresh_token', 'password'] as const)('a %s secret', (kind) => {
    it.each(FORMATS)('token endpoint echoing as %s: retried 502s, then 401 and 500', async (format) => {
      putSecret(kind);
      const api = await start(apiBundle, 'cancel-deletion');
      sim.faults.echoNext(2, 502, { path: TOKENS }, { format });
      expect((await cancelApi(api, 'payments')).status).toBe(200);
      const again = await start(apiBundle, 'cancel-deletion');
      sim.faults.echoNext(-1, 503, { path: TOKENS }, { format });
      expect((await cancelApi(again, 'ledger')).status).toBe(502);
      sim.faults.clear();
      const refused = await start(apiBundle, 'cancel-deletion');
      sim.faults.echoNext(-1, 401, { path: TOKENS }, { format });
      expect((await cancelApi(refused, 'ledger')).status).toBe(502);
      sim.faults.clear();
      const broken = await start(remediateBundle, 'remediate-deletion');
      sim.faults.echoNext(-1, 500, { path: TOKENS }, { format });
      await remediate(broken, sampleEvent('schedule-key-deletion'));
      expect(sim.counters.tokenRequests[kind]).toBeGreaterThanOrEqual(5);
    });
  });

  it.each(FORMATS)('key calls echoing body and Authorization as %s, on every route', async (format) => {
    for (const kind of ['token', 'refresh_token'] as const) {
      putSecret(kind);
      const api = await start(apiBundle, 'cancel-deletion');
      sim.faults.echoNext(2, 503, { method: 'GET', path: KEY }, { authorization: true, format });
      sim.faults.echoNext(1, 400, { method: 'POST', path: CANCEL }, { authorization: true, format });
      expect((await cancelApi(api, 'payments')).status).toBe(502);
      sim.faults.echoNext(-1, 504, { method: 'POST', path: CANCEL }, { authorization: true, format });
      expect((await cancelApi(api, 'payments')).status).toBe(502);
      sim.faults.clear();
      const fn = await start(remediateBundle, 'remediate-deletion');
      sim.faults.echoNext(1, 500, { method: 'POST', path: CANCEL }, { authorization: true, format });
      await remediate(fn, sampleEvent('schedule-key-deletion'));
      sim.faults.echoNext(-1, 502, { method: 'GET', path: LIST }, { authorization: true, format });
      await remediate(fn, sampleEvent('sweep'));
      sim.faults.clear();
      sim.faults.echoNext(-1, 500, { method: 'POST', path: CANCEL }, { authorization: true, format });
      await remediate(fn, sampleEvent('sweep'));
      sim.faults.clear();
    }
    expect(sim.counters.faulted).toBeGreaterThan(10);
  });

  // Runs last: everything captured across the suite.
  it('left no part of a credential, in any form, in any log line, body, notification or error', () => {
    const notifications = aws.sns.messages.map((m) => `${m.subject ?? ''}\n${m.message}`);
    const text = [...captured, ...notifications].join('\n');
    expect(text).toContain('Retrying CipherTrust Manager call');
    expect(text).toContain('remediation outcome');
    expect(text).toContain('BadGateway');
    expect(credentials.size).toBeGreaterThanOrEqual(4);
    expect(leaksIn(text)).toEqual([]);
  });
});
