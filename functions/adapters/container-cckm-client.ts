import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CckmApi } from '../domain/ports.ts';
import { type ConnectionConfig, type Loaded, requireConfig } from '../shared/config.ts';
import { type CckmClient, createCckmClient } from './cckm-client.ts';
import type { CmLogger } from './cm-session.ts';

/**
 * The container's CipherTrust Manager client for a handler's `cckm` dependency: built once, at the
 * first invocation rather than at import (an SDK client's construction is 1-3 ms of a ~120 ms cold
 * import, BENCHMARKS.md, and the import is what a cold start waits for). A configuration error
 * surfaces at invocation, naming the variable, so the API answers 500 and the log says what is wrong.
 */
export function containerCckmClient(connection: Loaded<ConnectionConfig>, logger: CmLogger): () => CckmApi {
  let client: Loaded<CckmClient> | undefined;
  return () => {
    client ??= connection.ok
      ? {
          ok: true,
          value: createCckmClient(connection.value, { secretsClient: new SecretsManagerClient({}), logger }),
        }
      : connection;
    return requireConfig(client);
  };
}
