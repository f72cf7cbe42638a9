import { Agent, request } from 'undici';
import type { Simulator } from '../../local/simulator/index.ts';

/** What a raw call to the simulator returned. */
export interface SimResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  readonly json: unknown;
}

/** A minimal undici client pinned to the simulator's CA, for tests of the simulator itself. */
export interface SimTestClient {
  call(
    method: string,
    path: string,
    opts?: {
      token?: string;
      body?: unknown;
      rawBody?: string;
      accept?: string | null;
      signal?: AbortSignal;
    },
  ): Promise<SimResponse>;
  /** Mints a JWT with the seeded refresh token. */
  token(): Promise<string>;
  readonly agent: Agent;
  close(): Promise<void>;
}

/** Creates a test client for `sim` (keep-alive agent trusting only the simulator's CA). */
export function simTestClient(sim: Simulator): SimTestClient {
  const agent = new Agent({ connect: { ca: sim.caPem } });
  const call: SimTestClient['call'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = {};
    if (opts.accept !== null) headers.accept = opts.accept ?? 'application/json';
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.rawBody !== undefined) body = opts.rawBody;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await request(`${sim.url}${path}`, {
      method: method as 'GET',
      headers,
      dispatcher: agent,
      ...(body === undefined ? {} : { body }),
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: res.headers, text, json };
  };
  return {
    agent,
    call,
    async token() {
      const r = await call('POST', '/api/v1/auth/tokens', {
        body: { grant_type: 'refresh_token', refresh_token: sim.credentials.refreshToken },
      });
      if (r.status !== 200) throw new Error(`token request failed: ${r.status} ${r.text}`);
      return (r.json as { jwt: string }).jwt;
    },
    close: () => agent.close(),
  };
}
