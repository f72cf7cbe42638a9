import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CckmApi } from '../domain/ports.ts';
import { builtOnFirstUse } from '../shared/built-once.ts';
import type { ConnectionConfig, Loaded } from '../shared/config.ts';
import { createCckmClient } from './cckm-client.ts';
import type { CmLogger } from './cm-session.ts';

/**
 * The container's CipherTrust Manager client for a handler's `cckm` dependency: built once, at the
 * first invocation rather than at import; a configuration error surfaces at invocation, naming the
 * variable, so the API answers 500 and the log says what is wrong.
 */
export function containerCckmClient(connection: Loaded<ConnectionConfig>, logger: CmLogger): () => CckmApi {
  return builtOnFirstUse(connection, (config) =>
    createCckmClient(config, { secretsClient: new SecretsManagerClient({}), logger }),
  );
}
