import { Agent, type Dispatcher } from 'undici';
import { MAX_RESPONSE_BYTES } from './cm-http.ts';

/**
 * The one undici Agent of a container. Its TLS trust depends on the secret's `ca_cert`, so it is
 * built after the first secret read and rebuilt only when `ca_cert` changes on rotation.
 */

export interface AgentSettings {
  /** PEM from the secret; when given it is the only trust anchor (Node's `ca` replaces the system store). */
  readonly caCert?: string;
  /** `CCKM_TLS_INSECURE=true`: no certificate verification at all. */
  readonly insecure: boolean;
  /** The per-call budget; socket timeouts stay inside it so a stuck connection leaves room for a retry. */
  readonly timeoutMs: number;
}

/** Creates a keep-alive Agent with explicit connect, headers and body timeouts and the TLS trust asked for. */
export function createCmAgent(settings: AgentSettings): Agent {
  const connectTimeout = Math.min(3000, settings.timeoutMs);
  return new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: settings.timeoutMs,
    bodyTimeout: settings.timeoutMs,
    maxResponseSize: MAX_RESPONSE_BYTES,
    connections: 16,
    connect: {
      timeout: connectTimeout,
      keepAlive: true,
      rejectUnauthorized: !settings.insecure,
      // Nothing verified, nothing to trust; `ca: undefined` keeps the system store.
      ca: settings.insecure ? undefined : settings.caCert,
    },
  });
}

/** Hands out the dispatcher for the current secret. */
export interface DispatcherProvider {
  /** The dispatcher to use with a secret whose `ca_cert` is `caCert`. */
  forCaCert(caCert: string | undefined): Dispatcher;
  /** Agents built so far (1 per container unless `ca_cert` rotates). */
  readonly agentsCreated: number;
  close(): Promise<void>;
}

/** Creates the provider: an injected dispatcher (tests) is used as is, otherwise Agents are built lazily. */
export function createDispatcherProvider(
  settings: Omit<AgentSettings, 'caCert'>,
  injected?: Dispatcher,
): DispatcherProvider {
  let current: { agent: Agent; caCert: string | undefined } | undefined;
  let agentsCreated = 0;
  return {
    forCaCert(caCert) {
      if (injected) return injected;
      if (current && current.caCert === caCert) return current.agent;
      const previous = current?.agent;
      current = { agent: createCmAgent({ ...settings, caCert }), caCert };
      agentsCreated++;
      // close() lets requests already on the old agent finish; errors there do not concern new calls.
      previous?.close().catch(() => undefined);
      return current.agent;
    },
    get agentsCreated() {
      return agentsCreated;
    },
    async close() {
      const agent = current?.agent;
      current = undefined;
      await agent?.close();
    },
  };
}
