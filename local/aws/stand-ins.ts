import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listenOnLoopback } from '../listen.ts';
import { SecretsStore } from './secrets-manager.ts';
import { SnsStore, snsError } from './sns.ts';

/** Which stand-in a request or fault is about. */
export type AwsService = 'secretsmanager' | 'sns';

/** A fault for the next matching stand-in calls. */
export interface AwsFaultSpec {
  /** Service to match; any when absent. */
  readonly service?: AwsService;
  /** How many calls the fault takes; default 1. */
  readonly times?: number;
  /** HTTP status; default 500. */
  readonly status?: number;
  /** AWS error code, e.g. `ThrottlingException`, `InternalServiceError`, `Throttling`; defaulted per service. */
  readonly code?: string;
  readonly message?: string;
  /** Wait this long before answering. */
  readonly delayMs?: number;
  /** Destroy the connection instead of answering. */
  readonly reset?: boolean;
}

/** One stand-in call as seen. Never holds a secret value or a message body. */
export interface AwsRequestLogEntry {
  readonly service: AwsService | 'unknown';
  readonly action: string;
  /** SecretId or TopicArn. */
  readonly target?: string;
  readonly status: number;
  /** Whether the call carried a SigV4 Authorization header (the real SDK always signs). */
  readonly signed: boolean;
  readonly fault?: boolean;
}

/** Options of `startAwsStandIns`. */
export interface AwsStandInsOptions {
  /** Port on 127.0.0.1; default 0 (a free port). */
  readonly port?: number;
  readonly region?: string;
  readonly account?: string;
}

/** Running Secrets Manager and SNS stand-ins on one HTTP endpoint. */
export interface AwsStandIns {
  /** `http://127.0.0.1:<port>`, for both `AWS_ENDPOINT_URL_SECRETS_MANAGER` and `AWS_ENDPOINT_URL_SNS`. */
  readonly url: string;
  readonly region: string;
  readonly account: string;
  readonly secrets: SecretsStore;
  readonly sns: SnsStore;
  /** Fault table: `failNext({ service: 'secretsmanager', status: 500 })`, `clear()`, `pending()`. */
  readonly faults: {
    failNext(spec?: AwsFaultSpec): void;
    pending(): number;
    clear(): void;
  };
  /** Calls since the last `reset()` (a copy). */
  readonly requests: readonly AwsRequestLogEntry[];
  /** The AWS SDK environment pointing at these stand-ins, with dummy credentials. */
  env(): Record<string, string>;
  /** Clears faults, the log and published messages (secrets and topics stay). */
  reset(): void;
  close(): Promise<void>;
}

interface ActiveFault {
  spec: AwsFaultSpec;
  remaining: number;
}

const DEFAULT_CODE: Readonly<Record<AwsService, (status: number) => string>> = {
  secretsmanager: (s) => (s === 400 || s === 429 ? 'ThrottlingException' : 'InternalServiceError'),
  sns: (s) => (s === 400 || s === 429 ? 'Throttling' : 'InternalError'),
};

/**
 * Starts Secrets Manager (`GetSecretValue`, AWS JSON 1.1) and SNS (`Publish`, AWS query protocol
 * with XML answers, which @aws-sdk/client-sns speaks) on `http://127.0.0.1:<port>`, so the real
 * SDK clients, serializers and retry logic run against them.
 */
export async function startAwsStandIns(options: AwsStandInsOptions = {}): Promise<AwsStandIns> {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '000000000000';
  const secrets = new SecretsStore(region, account);
  const sns = new SnsStore(region, account);
  let faults: ActiveFault[] = [];
  let log: AwsRequestLogEntry[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const takeFault = (service: AwsService | 'unknown'): AwsFaultSpec | undefined => {
    for (const f of faults) {
      if (f.remaining > 0 && (!f.spec.service || f.spec.service === service)) {
        f.remaining -= 1;
        return f.spec;
      }
    }
    return undefined;
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const amzTarget = req.headers['x-amz-target'];
    const contentType = req.headers['content-type'] ?? '';
    const signed =
      typeof req.headers.authorization === 'string' && req.headers.authorization.startsWith('AWS4-');

    let service: AwsService | 'unknown' = 'unknown';
    let action = '';
    let target: string | undefined;
    let jsonInput: Record<string, unknown> = {};
    let form = new URLSearchParams();
    if (typeof amzTarget === 'string' && amzTarget.startsWith('secretsmanager.')) {
      service = 'secretsmanager';
      action = amzTarget.slice('secretsmanager.'.length);
      try {
        jsonInput = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        jsonInput = {};
      }
      target = typeof jsonInput.SecretId === 'string' ? jsonInput.SecretId : undefined;
    } else if (contentType.startsWith('application/x-www-form-urlencoded')) {
      form = new URLSearchParams(raw);
      service = 'sns';
      action = form.get('Action') ?? '';
      target = form.get('TopicArn') ?? form.get('TargetArn') ?? undefined;
    }

    const record = (status: number, fault?: boolean): void => {
      log.push({
        service,
        action,
        ...(target ? { target } : {}),
        status,
        signed,
        ...(fault ? { fault } : {}),
      });
    };

    const fault = takeFault(service);
    if (fault?.delayMs) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve();
        }, fault.delayMs);
        timers.add(t);
      });
    }
    if (fault?.reset) {
      record(0, true);
      req.socket.destroy();
      return;
    }
    if (fault && (fault.status !== undefined || !fault.delayMs)) {
      const status = fault.status ?? 500;
      if (service === 'sns') {
        const e = snsError(status, fault.code ?? DEFAULT_CODE.sns(status), fault.message ?? 'injected fault');
        reply(res, e.status, e.body, 'text/xml');
      } else {
        const code = fault.code ?? DEFAULT_CODE.secretsmanager(status);
        reply(
          res,
          status,
          JSON.stringify({ __type: code, message: fault.message ?? 'injected fault' }),
          'application/x-amz-json-1.1',
          {
            'x-amzn-errortype': code,
          },
        );
      }
      record(status, true);
      return;
    }

    if (service === 'secretsmanager') {
      const r = secrets.handle(action, jsonInput);
      const headers: Record<string, string> =
        r.status >= 400 ? { 'x-amzn-errortype': String(r.body.__type) } : {};
      reply(res, r.status, JSON.stringify(r.body), 'application/x-amz-json-1.1', headers);
      record(r.status, fault !== undefined);
      return;
    }
    if (service === 'sns') {
      const r = sns.handle(form);
      reply(res, r.status, r.body, 'text/xml');
      record(r.status, fault !== undefined);
      return;
    }
    reply(
      res,
      400,
      JSON.stringify({ __type: 'UnknownOperationException', message: 'Unknown service or operation' }),
      'application/json',
    );
    record(400);
  };

  const reply = (
    res: ServerResponse,
    status: number,
    body: string,
    contentType: string,
    headers: Record<string, string> = {},
  ): void => {
    res.writeHead(status, {
      ...headers,
      'content-type': contentType,
      'content-length': String(Buffer.byteLength(body)),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(body);
  };

  const server = createServer((req, res) => {
    onRequest(req, res).catch((e: unknown) => {
      if (!res.headersSent) {
        reply(
          res,
          500,
          JSON.stringify({ __type: 'InternalFailure', message: String(e) }),
          'application/json',
        );
      }
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const url = `http://127.0.0.1:${await listenOnLoopback(server, options.port)}`;

  return {
    url,
    region,
    account,
    secrets,
    sns,
    faults: {
      failNext(spec = {}) {
        faults.push({ spec, remaining: spec.times ?? 1 });
      },
      pending() {
        return faults.reduce((n, f) => n + f.remaining, 0);
      },
      clear() {
        faults = [];
      },
    },
    get requests() {
      return [...log];
    },
    env() {
      return {
        AWS_REGION: region,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
        AWS_ENDPOINT_URL_SNS: url,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_SESSION_TOKEN: 'test',
      };
    },
    reset() {
      faults = [];
      log = [];
      sns.clearMessages();
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
