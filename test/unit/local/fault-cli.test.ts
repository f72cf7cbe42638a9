import { describe, expect, it } from 'vitest';
import { parseFaultArg, shorthandFault } from '../../../local/simulator/fault-cli.ts';
import { Faults } from '../../../local/simulator/faults.ts';

describe('parseFaultArg', () => {
  it('reads a method, a path glob and key=value pairs', () => {
    expect(
      parseFaultArg('POST /api/v1/cckm/aws/keys/*/cancel-deletion status=429 times=2 retryAfter=1'),
    ).toEqual({
      method: 'POST',
      path: '/api/v1/cckm/aws/keys/*/cancel-deletion',
      status: 429,
      times: 2,
      retryAfter: 1,
    });
  });

  it('reads a reset and a delay without a method', () => {
    expect(parseFaultArg('/api/v1/auth/tokens reset')).toEqual({ path: '/api/v1/auth/tokens', reset: true });
    expect(parseFaultArg('delayMs=9000 times=-1')).toEqual({ delayMs: 9000, times: -1 });
  });

  it('refuses a fault that does nothing, an unknown key and a non-integer status', () => {
    expect(() => parseFaultArg('POST /x')).toThrow(/status=<code>, delayMs=<ms> or reset/);
    expect(() => parseFaultArg('/x status=500 colour=red')).toThrow(/unknown key colour/);
    expect(() => parseFaultArg('/x status=abc')).toThrow(/status must be an integer/);
  });
});

describe('parseFaultArg: the issue-10 faults', () => {
  it('reads echo, take-effect, a quoted kmsError and tamper', () => {
    expect(
      parseFaultArg('POST /api/v1/auth/tokens status=429 echo=body+authorization echoFormat=html'),
    ).toEqual({
      method: 'POST',
      path: '/api/v1/auth/tokens',
      status: 429,
      echo: 'body+authorization',
      echoFormat: 'html',
    });
    expect(parseFaultArg('POST /k take-effect status=504')).toEqual({
      method: 'POST',
      path: '/k',
      takeEffect: true,
      status: 504,
    });
    expect(
      parseFaultArg(`/k kmsError="{arn} is pending deletion." kmsException='KMSInvalidStateException'`),
    ).toEqual({
      path: '/k',
      kmsError: '{arn} is pending deletion.',
      kmsException: 'KMSInvalidStateException',
    });
    expect(parseFaultArg('GET /k tamper=missing-arn tamperIndex=3')).toEqual({
      method: 'GET',
      path: '/k',
      tamper: 'missing-arn',
      tamperIndex: 3,
    });
  });

  it('refuses an unknown value, an unclosed quote and effects that exclude each other', () => {
    expect(() => parseFaultArg('/k echo=everything')).toThrow(
      /fault: echo must be one of body, body\+authorization/,
    );
    expect(() => parseFaultArg('/k kmsError="open')).toThrow(/unclosed "/);
    expect(() => parseFaultArg('/k take-effect delayMs=5')).toThrow(/takeEffect needs status, echo or reset/);
    expect(() => parseFaultArg('/k tamper=other-id status=500')).toThrow(/tamper alters the real answer/);
  });
});

describe('shorthandFault (sim-ctl)', () => {
  it('builds the same specs as the long form', () => {
    expect(shorthandFault('echo', ['502', 'html', 'with-auth', '/api/v1/auth/tokens', 'times=2'])).toEqual({
      path: '/api/v1/auth/tokens',
      status: 502,
      echo: 'body+authorization',
      echoFormat: 'html',
      times: 2,
    });
    expect(shorthandFault('lose-answer', [])).toEqual({
      method: 'POST',
      path: '/api/v1/cckm/aws/keys/*/cancel-deletion',
      takeEffect: true,
      status: 504,
    });
    expect(shorthandFault('lose-answer', ['reset'])).toMatchObject({ takeEffect: true, reset: true });
    expect(shorthandFault('refuse-cancel', [])).toMatchObject({ kmsError: '{arn} is pending deletion.' });
    expect(shorthandFault('refuse-cancel', ['{arn}', 'is', 'pending', 'import.'])).toMatchObject({
      kmsError: '{arn} is pending import.',
    });
    expect(shorthandFault('tamper', ['other-id'])).toEqual({
      method: 'GET',
      path: '/api/v1/cckm/aws/keys/*',
      tamper: 'other-id',
    });
    expect(shorthandFault('tamper', ['ignore-keystate', 'times=-1'])).toMatchObject({
      path: '/api/v1/cckm/aws/keys',
      times: -1,
    });
    expect(shorthandFault('state', [])).toBeUndefined();
  });

  it('names what is wrong', () => {
    expect(() => shorthandFault('echo', ['html'])).toThrow(/echo: give a status/);
    expect(() => shorthandFault('echo', ['502', 'loudly'])).toThrow(/cannot read "loudly"/);
    expect(() => shorthandFault('lose-answer', ['never'])).toThrow(/give a status or reset/);
    expect(() => shorthandFault('tamper', ['shred'])).toThrow(/tamper must be one of/);
  });
});

describe('Faults', () => {
  it('consumes rules in order and only for matching method, path and body', () => {
    const f = new Faults(() => undefined);
    f.failNext(1, 503, { method: 'POST', path: '/a/*/c' });
    f.add({ path: '/a/b/c', status: 500, bodyIncludes: 'x', times: 2 });
    expect(f.take('GET', '/a/b/c', '')).toBeUndefined();
    expect(f.take('POST', '/a/b/c', '')?.status).toBe(503);
    expect(f.take('POST', '/a/b/c', '')).toBeUndefined();
    expect(f.take('POST', '/a/b/c', 'xyz')?.status).toBe(500);
    expect(f.pending()).toEqual([expect.objectContaining({ remaining: 1, hits: 1 })]);
  });

  it('refuses a rule without an effect and calls the expire hook', () => {
    let expired = 0;
    const f = new Faults(() => {
      expired += 1;
    });
    expect(() => f.add({ path: '/x' })).toThrow(/needs status, reset or delayMs/);
    f.expireAllTokens();
    expect(expired).toBe(1);
  });
});
