import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallBudget } from '../../../functions/adapters/call-budget.ts';
import { sendOnce } from '../../../functions/adapters/cm-http.ts';
import { prepareCmRequest } from '../../../functions/adapters/cm-path.ts';
import { createSecretSource } from '../../../functions/adapters/credentials.ts';
import { TimeoutError, UpstreamError } from '../../../functions/shared/errors.ts';
import { startSilentServer } from '../../helpers/silent-server.ts';

// sendOnce over a real socket: the answer reader is undici's `dispatch` handler, so what a stream used
// to do for us (the size cap, the body in several chunks, the end of the budget) is checked here.

type Route = (req: IncomingMessage, res: ServerResponse) => void;

const routes = new Map<string, Route>();
const seen: { path: string; method: string; headers: IncomingMessage['headers']; body: string }[] = [];
let server: Server;
let origin: string;
let agent: Agent;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      seen.push({ path: req.url ?? '', method: req.method ?? '', headers: req.headers, body });
      const route = routes.get((req.url ?? '').split('?')[0] ?? '');
      if (route) route(req, res);
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  agent = new Agent();
});

afterAll(async () => {
  await agent.close();
  await new Promise((resolve) => server.close(resolve));
});

function send(path: string, options: { limit?: number; budgetMs?: number; body?: unknown } = {}) {
  const budget = new CallBudget(options.budgetMs ?? 10_000);
  const request = prepareCmRequest({
    method: options.body === undefined ? 'GET' : 'POST',
    path,
    ...(options.body !== undefined && { body: options.body }),
  });
  return sendOnce(agent, origin, request, 'jwt-value', budget, options.limit).finally(() => budget.done());
}

describe('sendOnce over a socket', () => {
  it('sends the house headers and the JSON body, and reads a body that arrives in several chunks', async () => {
    routes.set('/api/v1/chunks', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no Content-Length
      res.write('{"a":');
      setTimeout(() => res.end('"é"}'), 20);
    });
    const response = await send('/api/v1/chunks', { body: { b: 1 } });
    expect(response).toMatchObject({ status: 200, json: { a: 'é' }, notJson: false });
    const request = seen.at(-1);
    expect(request).toMatchObject({ method: 'POST', path: '/api/v1/chunks', body: '{"b":1}' });
    expect(request?.headers).toMatchObject({
      accept: 'application/json',
      authorization: 'Bearer jwt-value',
      'content-type': 'application/json',
    });
  });

  it('sends a GET without a body or a Content-Type', async () => {
    routes.set('/api/v1/plain', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
    });
    const response = await send('/api/v1/plain');
    expect(response).toMatchObject({ status: 200, json: undefined, notJson: true });
    expect(seen.at(-1)?.headers['content-type']).toBeUndefined();
  });

  it('refuses a body whose declared length is over the cap, before reading it', async () => {
    routes.set('/api/v1/declared', (_req, res) => {
      res.writeHead(200, { 'content-length': '64' });
      res.write('x');
      // The rest comes after the budget: only the declared length can refuse the body in time.
      setTimeout(() => res.end('x'.repeat(63)), 1_000);
    });
    await expect(send('/api/v1/declared', { limit: 63, budgetMs: 500 })).rejects.toThrow(
      new UpstreamError('CipherTrust Manager sent a response body larger than 63 bytes'),
    );
  });

  it('refuses a chunked body once it has grown over the cap', async () => {
    routes.set('/api/v1/growing', (_req, res) => {
      res.writeHead(200);
      res.write('x'.repeat(40));
      setTimeout(() => res.end('y'.repeat(40)), 20);
    });
    await expect(send('/api/v1/growing', { limit: 63 })).rejects.toBeInstanceOf(UpstreamError);
    // The cap is on bytes, not on chunks: the same body within a larger cap is read whole.
    const whole = await send('/api/v1/growing', { limit: 80 });
    expect(whole).toMatchObject({ status: 200, notJson: true });
  });

  it('ends a request whose answer outlasts the budget with the budget reason', async () => {
    routes.set('/api/v1/slow-body', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"a":');
      setTimeout(() => res.end('1}'), 1_000);
    });
    const error = await send('/api/v1/slow-body', { budgetMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('TimeoutError');
  });

  it('ends a request still queued behind a busy connection with its budget, and never sends it', async () => {
    let release: (() => void) | undefined;
    routes.set('/api/v1/hold', (_req, res) => {
      release = () => res.writeHead(200).end('{}');
    });
    routes.set('/api/v1/queued', (_req, res) => {
      res.writeHead(200).end('{}');
    });
    const one = new Agent({ connections: 1 });
    const holding = new CallBudget(10_000);
    const held = sendOnce(
      one,
      origin,
      prepareCmRequest({ method: 'GET', path: '/api/v1/hold' }),
      undefined,
      holding,
    );
    const queuedBudget = new CallBudget(100);
    const queued = sendOnce(
      one,
      origin,
      prepareCmRequest({ method: 'GET', path: '/api/v1/queued' }),
      undefined,
      queuedBudget,
    );
    const error = await queued.catch((e: unknown) => e);
    expect((error as DOMException).name).toBe('TimeoutError');
    release?.();
    await expect(held).resolves.toMatchObject({ status: 200 });
    holding.done();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen.some((r) => r.path === '/api/v1/queued')).toBe(false);
    await one.close();
  });

  it('does not send at all when the budget is already spent', async () => {
    routes.set('/api/v1/never', (_req, res) => {
      res.writeHead(200).end('{}');
    });
    const before = seen.filter((r) => r.path === '/api/v1/never').length;
    const budget = new CallBudget(0);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const error = await sendOnce(
      agent,
      origin,
      prepareCmRequest({ method: 'GET', path: '/api/v1/never' }),
      undefined,
      budget,
    ).catch((e: unknown) => e);
    expect((error as DOMException).name).toBe('TimeoutError');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen.filter((r) => r.path === '/api/v1/never').length).toBe(before);
  });
});

describe('CallBudget', () => {
  it("is the AWS SDK's abort signal: a secret read Secrets Manager never answers ends with the budget", async () => {
    const silent = await startSilentServer();
    const client = new SecretsManagerClient({
      endpoint: silent.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
      maxAttempts: 1,
    });
    try {
      const budget = new CallBudget(100);
      await expect(createSecretSource(client, 'cckm/x').get(budget)).rejects.toThrow(
        new TimeoutError('Reading Secrets Manager secret cckm/x ran out of its time budget'),
      );
      expect(budget.aborted).toBe(true);
      expect(budget.reason).toBeInstanceOf(DOMException);
      expect(silent.held.length).toBe(1);
      // Spent before the read: nothing is sent.
      const spent = new CallBudget(0);
      await new Promise((resolve) => setTimeout(resolve, 10));
      await expect(createSecretSource(client, 'cckm/y').get(spent)).rejects.toBeInstanceOf(TimeoutError);
      expect(silent.held.length).toBe(1);
    } finally {
      client.destroy();
      await silent.close();
    }
  });

  it('ends each budget at its own time, a shorter one started later included', async () => {
    const ended: string[] = [];
    const long = new CallBudget(400);
    long.watch(() => ended.push('long'));
    const short = new CallBudget(30); // ends before the timer armed for `long`
    short.watch(() => ended.push('short'));
    const finished = new CallBudget(60);
    finished.watch(() => ended.push('finished'));
    finished.done();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ended).toEqual(['short']);
    expect([short.aborted, long.aborted, finished.aborted]).toEqual([true, false, false]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(ended).toEqual(['short', 'long']);
    expect(long.reason).toBeInstanceOf(DOMException);
  });

  it('never aborts once done, and forgets the request it watched', async () => {
    const budget = new CallBudget(20);
    const aborted: Error[] = [];
    budget.watch((reason) => aborted.push(reason));
    budget.done();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(budget.aborted).toBe(false);
    expect(aborted).toEqual([]);
  });
});
