import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * `npm run event -- <name>`: sends a sample EventBridge event (local/events/<name>.json, or a path
 * to a JSON file) to the local events endpoint of `npm start` (PORT, default 3000) and prints the
 * remediation result. `time` and `detail.eventTime` are set to now so notifications look current.
 */

const EVENTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'events');
const names = readdirSync(EVENTS_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => basename(f, '.json'));

const arg = process.argv[2];
if (!arg || arg === '--help') {
  process.stdout.write(`usage: npm run event -- <name | file.json>\nnames: ${names.join(', ')}\n`);
  process.exit(arg ? 0 : 1);
}
const file = names.includes(arg) ? join(EVENTS_DIR, `${arg}.json`) : arg;
let event: Record<string, unknown>;
try {
  event = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
} catch (e) {
  process.stderr.write(
    `cannot read event ${arg}: ${e instanceof Error ? e.message : String(e)}\nnames: ${names.join(', ')}\n`,
  );
  process.exit(1);
}
const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
event.time = now;
const detail = event.detail as Record<string, unknown> | undefined;
if (detail && typeof detail.eventTime === 'string') detail.eventTime = now;
const response = detail?.responseElements as Record<string, unknown> | null | undefined;
if (response && typeof response.deletionDate === 'string') {
  // Keep the sample's deletion date consistent with its new event time: now + the pending window.
  const days = Number(
    (detail?.requestParameters as Record<string, unknown> | undefined)?.pendingWindowInDays ?? 30,
  );
  response.deletionDate = new Date(Date.now() + days * 86_400_000).toISOString();
}

const port = process.env.PORT || '3000';
const url = `http://127.0.0.1:${port}/events`;
const notificationsUrl = `http://127.0.0.1:${port}/notifications`;

/** The notifications the local stack's SNS stand-in holds, or [] when it cannot say. */
async function notifications(): Promise<unknown[]> {
  try {
    const res = await fetch(notificationsUrl);
    return res.ok ? ((await res.json()) as unknown[]) : [];
  } catch {
    return [];
  }
}

try {
  const before = (await notifications()).length;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
  const text = await res.text();
  process.stdout.write(
    `${res.status} ${res.headers.get('x-amz-function-error') ? '(function error) ' : ''}${text}`,
  );
  if (!text.endsWith('\n')) process.stdout.write('\n');
  const published = (await notifications()).slice(before);
  process.stdout.write(
    published.length === 0
      ? 'notifications: none\n'
      : `notifications (${published.length}):\n${published.map((n) => JSON.stringify(n, null, 2)).join('\n')}\n`,
  );
  if (res.status !== 200) process.exitCode = 1;
} catch (e) {
  process.stderr.write(
    `cannot reach ${url} (is npm start running? PORT=${port}): ${e instanceof Error ? e.message : String(e)}\n`,
  );
  process.exit(1);
}
