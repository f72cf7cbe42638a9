import { Logger } from '@aws-lambda-powertools/logger';
import { MockAgent } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { prepareCmRequest } from '../../../functions/adapters/cm-path.ts';
import { createCmSender } from '../../../functions/adapters/cm-send.ts';
import type { CckmSecret } from '../../../functions/adapters/credentials.ts';
import { DEFAULT_RETRY_POLICY } from '../../../functions/adapters/retry.ts';
import { CM_ORIGIN } from '../../helpers/cm-fakes.ts';

const SECRET: CckmSecret = { credential: { type: 'token', token: 'static-token-value-0123456789' } };

describe('createCmSender debug lines', () => {
  let agent: MockAgent | undefined;
  afterEach(async () => {
    await agent?.close();
  });

  async function sendOnceWith(logLevel: 'DEBUG' | 'WARN') {
    agent = new MockAgent();
    agent.disableNetConnect();
    agent.get(CM_ORIGIN).intercept({ path: '/api/v1/cckm/aws/keys', method: 'GET' }).reply(200, {});
    const log = new Logger({ serviceName: 'test', logLevel });
    const debug = vi.spyOn(log, 'debug').mockImplementation(() => {});
    const sender = createCmSender({
      origin: CM_ORIGIN,
      log,
      now: () => 0,
      sleep: async () => {},
      random: () => 0,
      retryPolicy: DEFAULT_RETRY_POLICY,
      dispatcherFor: () => agent as MockAgent,
    });
    const response = await sender.send(
      SECRET,
      prepareCmRequest({ method: 'GET', path: '/api/v1/cckm/aws/keys' }),
      'jwt',
      'GET keys',
      60_000,
    );
    agent.assertNoPendingInterceptors();
    return { response, debug };
  }

  it('hands a request line to the logger when it prints DEBUG', async () => {
    const { response, debug } = await sendOnceWith('DEBUG');
    expect(response.status).toBe(200);
    expect(debug).toHaveBeenCalledWith(
      'CipherTrust Manager request',
      expect.objectContaining({ status: 200 }),
    );
  });

  it('does not build the request line when the logger would drop it', async () => {
    const { response, debug } = await sendOnceWith('WARN');
    expect(response.status).toBe(200);
    expect(debug).not.toHaveBeenCalled();
  });
});
