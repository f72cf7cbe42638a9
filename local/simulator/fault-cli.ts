import { type FaultSpec, validateSpec } from './fault-spec.ts';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
const INTEGER_KEYS = new Set(['status', 'times', 'delayMs', 'tamperIndex']);
const TEXT_KEYS = new Set([
  'body',
  'contentType',
  'bodyIncludes',
  'echo',
  'echoFormat',
  'kmsError',
  'kmsException',
  'tamper',
]);

/** Splits on blanks, keeping `"..."` / `'...'` runs (quotes removed) inside one word. */
function words(text: string): string[] {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error(`fault: unclosed ${quote}`);
  if (inWord) out.push(word);
  return out;
}

/**
 * Parses the command-line form of a fault, e.g.
 * `POST /api/v1/cckm/aws/keys/*\/cancel-deletion status=503 times=2 retryAfter=1`.
 * Words: an optional method, an optional path glob, then `key=value` pairs (`status`, `times`
 * (-1 for unlimited), `delayMs`, `retryAfter`, `body`, `contentType`, `bodyIncludes`, `echo`
 * (`body` | `body+authorization`), `echoFormat` (`json` | `text` | `html` | `urlencoded`), `kmsError`,
 * `kmsException`, `tamper` (`missing-arn` | `non-uuid-id` | `other-id` | `ignore-keystate`),
 * `tamperIndex`) and the flags `reset` and `take-effect`. Quote a value holding blanks:
 * `kmsError="{arn} is pending deletion."`.
 */
export function parseFaultArg(text: string): FaultSpec {
  const spec: Record<string, unknown> = {};
  for (const word of words(text)) {
    const eq = word.indexOf('=');
    if (eq === -1) {
      if (METHODS.has(word.toUpperCase()) && spec.method === undefined && spec.path === undefined) {
        spec.method = word.toUpperCase();
      } else if (word === 'reset') {
        spec.reset = true;
      } else if (word === 'take-effect' || word === 'takeEffect') {
        spec.takeEffect = true;
      } else if (word.startsWith('/') && spec.path === undefined) {
        spec.path = word;
      } else {
        throw new Error(`fault: cannot read "${word}"`);
      }
      continue;
    }
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    if (INTEGER_KEYS.has(key)) {
      const n = Number(value);
      if (value === '' || !Number.isInteger(n)) throw new Error(`fault: ${key} must be an integer`);
      spec[key] = n;
    } else if (TEXT_KEYS.has(key)) {
      spec[key] = value;
    } else if (key === 'retryAfter') {
      spec.retryAfter = /^\d+$/.test(value) ? Number(value) : value;
    } else {
      throw new Error(`fault: unknown key ${key}`);
    }
  }
  if (
    spec.status === undefined &&
    spec.reset === undefined &&
    spec.delayMs === undefined &&
    spec.echo === undefined &&
    spec.kmsError === undefined &&
    spec.tamper === undefined
  ) {
    throw new Error('fault: give status=<code>, delayMs=<ms> or reset (or echo=, kmsError=, tamper=)');
  }
  try {
    validateSpec(spec as FaultSpec);
  } catch (e) {
    throw new Error(`fault: ${e instanceof Error ? e.message : String(e)}`);
  }
  return spec as FaultSpec;
}

const LIST_PATH = '/api/v1/cckm/aws/keys';
const CANCEL_GLOB = '/api/v1/cckm/aws/keys/*/cancel-deletion';

/** Splits trailing `times=N` (and other `key=value` extras) from positional words. */
function split(args: readonly string[]): { pos: string[]; extra: string[] } {
  const pos: string[] = [];
  const extra: string[] = [];
  for (const a of args) (/^[A-Za-z]+=/.test(a) ? extra : pos).push(a);
  return { pos, extra };
}
const quoted = (v: string): string => `"${v.replaceAll('"', '')}"`;

/**
 * The sim-ctl shorthands for the faults the guard's tests need; each is a `parseFaultArg` text,
 * so both forms mean the same. Any may end with `key=value` extras such as `times=3`.
 * - `echo <status> [json|text|html|urlencoded] [with-auth] [path-glob]` (default path `*`)
 * - `lose-answer [<status>|reset] [path-glob]` (default 504 on cancels)
 * - `refuse-cancel ["<text>"]` (default `{arn} is pending deletion.`)
 * - `tamper <missing-arn|non-uuid-id|other-id|ignore-keystate> [index]` (listing; `other-id`: GET one key)
 * Returns undefined for another command.
 */
export function shorthandFault(command: string, args: readonly string[]): FaultSpec | undefined {
  const { pos, extra } = split(args);
  const tail = extra.map((e) => {
    const eq = e.indexOf('=');
    return `${e.slice(0, eq)}=${quoted(e.slice(eq + 1))}`;
  });
  let text: string;
  switch (command) {
    case 'echo': {
      const [status, ...rest] = pos;
      if (!status || !/^\d{3}$/.test(status)) throw new Error('echo: give a status, e.g. echo 502 html');
      const format = rest.find((w) => ['json', 'text', 'html', 'urlencoded'].includes(w));
      const path = rest.find((w) => w.startsWith('/') || w === '*') ?? '*';
      const unknown = rest.find((w) => w !== format && w !== path && w !== 'with-auth');
      if (unknown !== undefined) throw new Error(`echo: cannot read "${unknown}"`);
      const what = rest.includes('with-auth') ? 'body+authorization' : 'body';
      text = `${path} status=${status} echo=${what}${format ? ` echoFormat=${format}` : ''}`;
      break;
    }
    case 'lose-answer': {
      const how = pos.find((w) => !w.startsWith('/')) ?? '504';
      const path = pos.find((w) => w.startsWith('/')) ?? CANCEL_GLOB;
      if (how !== 'reset' && !/^\d{3}$/.test(how)) throw new Error('lose-answer: give a status or reset');
      text = `POST ${path} take-effect ${how === 'reset' ? 'reset' : `status=${how}`}`;
      break;
    }
    case 'refuse-cancel':
      text = `POST ${CANCEL_GLOB} kmsError=${quoted(pos.join(' ') || '{arn} is pending deletion.')}`;
      break;
    case 'tamper': {
      const [kind, index] = pos;
      if (!kind) throw new Error('tamper: give missing-arn, non-uuid-id, other-id or ignore-keystate');
      const path = kind === 'other-id' ? '/api/v1/cckm/aws/keys/*' : LIST_PATH;
      text = `GET ${path} tamper=${kind}${index === undefined ? '' : ` tamperIndex=${index}`}`;
      break;
    }
    default:
      return undefined;
  }
  return parseFaultArg([text, ...tail].join(' '));
}
