import { describe, expect, it } from 'vitest';
import { cmErrorOf, networkErrorOf, parseJsonBody } from '../../../functions/adapters/cm-http.ts';
import { cmRequestPath } from '../../../functions/adapters/cm-path.ts';
import {
  createTokenProvider,
  type GrantBody,
  jwtExpiryMs,
  refreshAtMs,
  type TokenGrant,
} from '../../../functions/adapters/tokens.ts';
import { ValidationError } from '../../../functions/shared/errors.ts';
import { makeJwt } from '../../helpers/cm-fakes.ts';

const ORIGIN = 'https://cm.example.com';

describe('token rules', () => {
  it('never asks to renew the refresh token', async () => {
    const bodies: GrantBody[] = [];
    const provider = createTokenProvider(async (body) => {
      bodies.push(body);
      return { jwt: 'minted' };
    });
    const secret = { credential: { type: 'refresh_token', refreshToken: 'r' }, domain: 'd' } as const;
    await expect(provider.get(secret, Number.MAX_SAFE_INTEGER)).resolves.toBe('minted');
    expect(bodies).toEqual([{ grant_type: 'refresh_token', refresh_token: 'r', domain: 'd' }]);
  });

  it('sends no grant for a static token and uses it as it is', async () => {
    const provider = createTokenProvider(() => Promise.reject(new Error('no grant expected')));
    const secret = { credential: { type: 'token', token: 't' } } as const;
    await expect(provider.get(secret, Number.MAX_SAFE_INTEGER)).resolves.toBe('t');
    expect(provider.grants).toBe(0);
  });

  it('reads exp without verifying and ignores tokens it cannot decode', () => {
    expect(jwtExpiryMs(makeJwt({ exp: 1_700_000_000 }))).toBe(1_700_000_000_000);
    expect(jwtExpiryMs('not-a-jwt')).toBeUndefined();
    expect(jwtExpiryMs('a.%%%.c')).toBeUndefined();
    expect(jwtExpiryMs(makeJwt({ exp: 'soon' }))).toBeUndefined();
  });

  it.each([
    ['exp claim', { jwt: makeJwt({ exp: 1000 + 300 }) }, 1_270_000],
    ['duration when no exp', { jwt: 'opaque', duration: 120 }, 1_090_000],
    ['300 s when neither', { jwt: 'opaque' }, 1_270_000],
    ['half the life of a very short token', { jwt: 'opaque', duration: 20 }, 1_010_000],
  ])('refreshes by %s', (_, grant: TokenGrant, expected) => {
    expect(refreshAtMs(grant, 1_000_000)).toBe(expected);
  });

  it('drops only the cached token it is told was rejected, and lets a mint in flight stand', async () => {
    let release: (grant: TokenGrant) => void = () => {};
    let mints = 0;
    const provider = createTokenProvider(
      () =>
        new Promise<TokenGrant>((resolve) => {
          mints++;
          release = resolve;
        }),
      () => 0,
    );
    const secret = { credential: { type: 'refresh_token' as const, refreshToken: 'r' } };
    const first = provider.get(secret, 10_000);
    release({ jwt: 'old' });
    await expect(first).resolves.toBe('old');
    provider.drop('old');
    const second = provider.get(secret, 10_000);
    // More 401s for the token already dropped: the mint in flight is shared, not started again.
    provider.drop('old');
    provider.drop('old');
    const third = provider.get(secret, 10_000);
    release({ jwt: 'fresh' });
    await expect(Promise.all([second, third])).resolves.toEqual(['fresh', 'fresh']);
    provider.drop('old');
    await expect(provider.get(secret, 10_000)).resolves.toBe('fresh');
    expect(mints).toBe(2);
    expect(provider.grants).toBe(2);
  });
});

describe('cmRequestPath', () => {
  it('repeats multi-valued parameters and writes booleans in lowercase', () => {
    const path = cmRequestPath({
      path: '/api/v1/cckm/aws/keys',
      query: {
        keystate: ['PendingDeletion', 'PendingReplicaDeletion'],
        gone: false,
        limit: 100,
        kms: undefined,
      },
    });
    expect(path).toBe(
      '/api/v1/cckm/aws/keys?keystate=PendingDeletion&keystate=PendingReplicaDeletion&gone=false&limit=100',
    );
  });

  it('sends a path without a query, or whose parameters are all undefined, as it is', () => {
    const path = '/api/v1/cckm/aws/keys/3f2b8c1e-7a4d-4e0b-9c61-2d5e8f9a0b1c';
    expect(cmRequestPath({ path })).toBe(path);
    expect(cmRequestPath({ path, query: { kms: undefined } })).toBe(path);
  });

  it('encodes query values so they cannot add parameters', () => {
    const path = cmRequestPath({ path: '/api/v1/cckm/aws/keys', query: { alias: 'a&keystate=Enabled' } });
    const url = new URL(path, ORIGIN);
    expect(url.pathname).toBe('/api/v1/cckm/aws/keys');
    expect(url.searchParams.getAll('keystate')).toEqual([]);
    expect(url.searchParams.get('alias')).toBe('a&keystate=Enabled');
  });

  it.each([
    [
      'plain values, joined by hand',
      { keyid: 'mrk-0123abcd', region: 'eu-west-1', limit: 100, x: 'a*b.c_d' },
    ],
    ['a value with a tilde', { alias: 'a~b', region: 'eu-west-1' }],
    ['a value with a blank and a plus', { alias: 'a b+c', limit: 1 }],
    ['a value with non-ASCII text', { alias: 'clé', keystate: ['PendingDeletion', 'Enabled'] }],
    ['an empty value', { alias: '', limit: 2 }],
  ])('writes %s exactly as URLSearchParams does', (_, query) => {
    const expected = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      for (const v of Array.isArray(value) ? value : [String(value)]) expected.append(name, v);
    }
    expect(cmRequestPath({ path: '/api/v1/cckm/aws/keys', query })).toBe(
      `/api/v1/cckm/aws/keys?${expected.toString()}`,
    );
  });

  it.each(['/api/v1/cckm/aws/keys/...', '/api/v1/.well-known/x', '/api/v1/x./..y', '/api/v1/x//y'])(
    'accepts the path %j, whose dots are not a dot segment',
    (path) => {
      expect(cmRequestPath({ path })).toBe(path);
    },
  );

  it.each([
    '/api/v2/keys',
    '/api/v1/../auth',
    '/api/v1/cckm/aws/keys/./x',
    '/api/v1/cckm/aws/keys/..',
    '/api/v1/cckm/aws/keys/.',
    '/api/v1/.//x',
    '/api/v1/cckm/%2e%2e/x',
    '/api/v1/cckm/aws/keys/a%2Fb',
    '/api/v1/x\\..\\y',
    '//evil.example.com/api/v1/',
    '/api/v1/x?y=1',
    '/api/v1/x#frag',
    'https://evil.example.com/api/v1/keys',
    '/api/v1/x y',
    '/api/v1/x<y>',
    '/api/v1/caf\u00e9',
    '/api/v1/x\ny',
  ])('refuses the path %j', (path) => {
    expect(() => cmRequestPath({ path })).toThrow(ValidationError);
  });
});

describe('CM bodies', () => {
  it.each([
    [
      { code: 16, codeDesc: 'NCERRResourceNotFound: Resource not found' },
      { codeDesc: 'NCERRResourceNotFound', cmMessage: 'Resource not found' },
    ],
    [
      {
        code: 5,
        codeDesc: 'NCERRUnauthorizedAccess',
        message: 'Wrong username or password.',
        requestID: 'r',
      },
      { codeDesc: 'NCERRUnauthorizedAccess', cmMessage: 'Wrong username or password.' },
    ],
    [{ codeDesc: 'NCERRConflict' }, { codeDesc: 'NCERRConflict' }],
    [{ message: 'no codeDesc' }, undefined],
    [['codeDesc'], undefined],
    [undefined, undefined],
  ])('reads %j as %j', (body, expected) => {
    expect(cmErrorOf(body)).toEqual(expected);
  });

  it('tells an empty body from one that is not JSON', () => {
    expect(parseJsonBody('')).toEqual({ json: undefined, notJson: false });
    expect(parseJsonBody('<html>')).toEqual({ json: undefined, notJson: true });
    expect(parseJsonBody('{"a":1}')).toEqual({ json: { a: 1 }, notJson: false });
  });
});

describe('networkErrorOf', () => {
  const failure = (code: string) => Object.assign(new Error('authorization: Bearer leaked-value'), { code });
  it.each([
    ['ECONNREFUSED', 'CipherTrust Manager unreachable (ECONNREFUSED) during GET /api/v1/x'],
    [
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'TLS verification of CipherTrust Manager failed (DEPTH_ZERO_SELF_SIGNED_CERT) during GET /api/v1/x',
    ],
    ['UND_ERR_RES_EXCEEDED_MAX_SIZE', 'CipherTrust Manager sent a response body larger than 5242880 bytes'],
  ])('names %s by its code only, never the wrapped message', (code, message) => {
    const error = networkErrorOf(failure(code), 'GET /api/v1/x');
    expect(error.message).toBe(message);
    expect(error.message).not.toContain('leaked-value');
  });
});
