import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GuardLogger, invocationContext } from '../../../functions/shared/logger.ts';
import { captureOutput, lambdaContext } from '../../helpers/lambda.ts';

const SERVICE = 'cckm-deletion-guard';

function contextWithId(awsRequestId: string): Context {
  return { ...lambdaContext(), awsRequestId };
}

/** A middy handler logging `lines` (level and message) with `log`, under `invocationContext`. */
function handlerLogging(log: GuardLogger, whole: boolean) {
  return middy<{ lines: [string, string][] }, string>({ timeoutEarlyInMillis: 0 })
    .use(invocationContext(log, whole))
    .handler(async (event) => {
      for (const [level, message] of event.lines) {
        if (level === 'warn') log.warn(message);
        else log.info(message);
      }
      return 'done';
    });
}

let output: ReturnType<typeof captureOutput>;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => {
  output.restore();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('GuardLogger under invocationContext', () => {
  it("puts each invocation's Lambda context on its lines, and cold_start only on the first invocation's", async () => {
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand'); // Powertools counts cold starts only then
    const log = new GuardLogger({ serviceName: SERVICE });
    const handler = handlerLogging(log, true);
    await handler({ lines: [['info', 'first']] }, contextWithId('id-1'));
    await handler({ lines: [] }, contextWithId('id-2'));
    await handler({ lines: [['warn', 'third']] }, contextWithId('id-3'));
    const lines = output.lines();
    expect(lines.find((l) => l.message === 'first')).toMatchObject({
      function_request_id: 'id-1',
      function_name: 'cckm-deletion-guard-test',
      cold_start: true,
    });
    expect(lines.find((l) => l.message === 'third')).toMatchObject({
      function_request_id: 'id-3',
      function_name: 'cckm-deletion-guard-test',
      cold_start: false,
    });
  });

  it('counts the cold start even when the first invocation prints nothing', async () => {
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
    const log = new GuardLogger({ serviceName: SERVICE });
    const handler = handlerLogging(log, true);
    await handler({ lines: [] }, contextWithId('id-1'));
    await handler({ lines: [['info', 'second']] }, contextWithId('id-2'));
    expect(output.lines().find((l) => l.message === 'second')).toMatchObject({
      function_request_id: 'id-2',
      cold_start: false,
    });
  });

  it('hands Powertools the context only when a line is printed', async () => {
    const log = new GuardLogger({ serviceName: SERVICE, logLevel: 'WARN' });
    const addContext = vi.spyOn(log, 'addContext');
    const handler = handlerLogging(log, true);
    await handler({ lines: [] }, contextWithId('id-1')); // the first: at once, for cold_start
    await handler({ lines: [['info', 'suppressed at WARN']] }, contextWithId('id-2'));
    await handler({ lines: [] }, contextWithId('id-3'));
    expect(addContext).toHaveBeenCalledTimes(1);
    await handler({ lines: [['warn', 'printed']] }, contextWithId('id-4'));
    expect(addContext).toHaveBeenCalledTimes(2);
    expect(addContext).toHaveBeenLastCalledWith(expect.objectContaining({ awsRequestId: 'id-4' }));
    expect(output.lines().map((l) => [l.message, l.function_request_id])).toEqual([['printed', 'id-4']]);
  });

  it('gives the API lines the request id and nothing else of the context', async () => {
    const log = new GuardLogger({ serviceName: SERVICE });
    const handler = handlerLogging(log, false);
    await handler({ lines: [] }, contextWithId('id-1'));
    await handler({ lines: [['info', 'api line']] }, contextWithId('id-2'));
    const line = output.lines().find((l) => l.message === 'api line');
    expect(line?.function_request_id).toBe('id-2');
    for (const repeated of ['function_name', 'function_arn', 'function_memory_size', 'cold_start']) {
      expect(line).not.toHaveProperty(repeated);
    }
  });

  it("logs the remediation event when the logger is set to, with that invocation's context", async () => {
    vi.stubEnv('POWERTOOLS_LOGGER_LOG_EVENT', 'true'); // read by Powertools when the logger is made
    const log = new GuardLogger({ serviceName: SERVICE });
    const handler = handlerLogging(log, true);
    await handler({ lines: [] }, contextWithId('id-1'));
    await handler({ lines: [] }, contextWithId('id-2'));
    const events = output.lines().filter((l) => l.message === 'Lambda invocation event');
    expect(events.map((l) => l.function_request_id)).toEqual(['id-1', 'id-2']);
    expect(events[1]?.event).toEqual({ lines: [] });
  });

  it('can be made when a debug sample rate switches it to DEBUG while Powertools constructs it', async () => {
    vi.stubEnv('POWERTOOLS_LOGGER_SAMPLE_RATE', '1'); // every draw samples: DEBUG, and a line saying so
    const log = new GuardLogger({ serviceName: SERVICE, logLevel: 'WARN' });
    expect(log.getLevelName()).toBe('DEBUG');
    expect(output.lines().map((l) => l.message)).toContain('Setting log level to DEBUG due to sampling rate');
    await handlerLogging(log, true)({ lines: [['info', 'sampled']] }, contextWithId('id-1'));
    expect(output.lines().find((l) => l.message === 'sampled')?.function_request_id).toBe('id-1');
  });

  it('gives concurrent invocations (AWS_LAMBDA_MAX_CONCURRENCY) each its own context', async () => {
    vi.stubEnv('AWS_LAMBDA_MAX_CONCURRENCY', '4');
    const { InvokeStore } = await import('@aws/lambda-invoke-store');
    const store = await InvokeStore.getInstanceAsync(true);
    for (const whole of [false, true]) {
      const log = new GuardLogger({ serviceName: SERVICE });
      const handler = middy<{ id: string; wait: number }, void>({ timeoutEarlyInMillis: 0 })
        .use(invocationContext(log, whole))
        .handler(async (event) => {
          await new Promise((resolve) => setTimeout(resolve, event.wait));
          log.info(`line of ${event.id}`);
        });
      const run = (id: string, wait: number) =>
        store.run({ 'X-Amzn-RequestId': id }, () => handler({ id, wait }, contextWithId(id)));
      await run(`${whole}-0`, 0);
      await Promise.all([run(`${whole}-1`, 10), run(`${whole}-2`, 30)]);
    }
    const ids = output
      .lines()
      .filter((l) => String(l.message).startsWith('line of '))
      .map((l) => [String(l.message).slice(8), l.function_request_id]);
    expect(ids).toEqual(ids.map(([id]) => [id, id]));
    expect(ids).toHaveLength(6);
  });
});
