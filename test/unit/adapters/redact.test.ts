import { describe, expect, it } from 'vitest';
import { createRedactor, MIN_FRAGMENT, REDACTED, redactAndClip } from '../../../functions/adapters/redact.ts';

const TOKEN = 'UmOsK3yQ9vX1refreshTokenValue0123456789';
const PASSWORD = 'p@ss "word" \\ with&=+ spaces';

function leaks(text: string, value: string): boolean {
  for (let i = 0; i + MIN_FRAGMENT <= value.length; i++) {
    if (text.includes(value.slice(i, i + MIN_FRAGMENT))) return true;
  }
  return false;
}

describe('createRedactor', () => {
  const redact = createRedactor([TOKEN, PASSWORD, undefined, '']);

  it('leaves an empty text empty', () => {
    expect(redact('')).toBe('');
    expect(createRedactor(['short'])('')).toBe('');
  });

  it('redacts a raw echo of the request body', () => {
    const out = redact(`bad request: {"grant_type":"refresh_token","refresh_token":"${TOKEN}"}`);
    expect(out).toContain(REDACTED);
    expect(leaks(out, TOKEN)).toBe(false);
    expect(out).toContain('grant_type');
  });

  it('redacts the JSON-escaped form of a password holding quotes and backslashes', () => {
    const echoed = JSON.stringify({ password: PASSWORD });
    const out = redact(`echo: ${echoed}`);
    expect(leaks(out, JSON.stringify(PASSWORD).slice(1, -1))).toBe(false);
    expect(leaks(out, PASSWORD)).toBe(false);
  });

  it("redacts the JSON forms other encoders write: Go's HTML-safe escapes, escaped slashes, ASCII-only", () => {
    // CipherTrust Manager is written in Go, whose encoding/json writes & < > as \u0026 \u003c \u003e;
    // other servers and proxies escape / as \/ or every non-ASCII character as \uXXXX. No part of 8 or
    // more characters of the credential may survive in any of them.
    const password = 'Pa55w0r&d<Xy>Zq7&Lm9/é1';
    const goForm = JSON.stringify(password)
      .slice(1, -1)
      .replace(/&/g, '\\u0026')
      .replace(/</g, '\\u003c')
      .replace(/>/g, '\\u003e');
    const slashForm = JSON.stringify(password).slice(1, -1).replace(/\//g, '\\/');
    const asciiForm = JSON.stringify(password).slice(1, -1).replace(/é/g, '\\u00e9');
    const scrub = createRedactor([password]);
    for (const form of [goForm, slashForm, asciiForm]) {
      const out = scrub(`{"code":15,"codeDesc":"NCERRInvalidParamValue","message":"bad value ${form}"}`);
      expect(out).toContain(REDACTED);
      expect(leaks(out, form)).toBe(false);
      expect(out).toContain('NCERRInvalidParamValue');
    }
  });

  it('redacts the URL-encoded forms', () => {
    const out = redact(
      `password=${encodeURIComponent(PASSWORD)}&x=${encodeURIComponent(PASSWORD).replace(/%20/g, '+')}`,
    );
    expect(leaks(out, encodeURIComponent(PASSWORD))).toBe(false);
    expect(out.startsWith('password=')).toBe(true);
  });

  it('redacts a fragment of a token cut by the server', () => {
    const out = redact(`... "refresh_token":"${TOKEN.slice(0, 12)}`);
    expect(out).not.toContain(TOKEN.slice(0, MIN_FRAGMENT));
  });

  it('redacts a base64 Basic credential', () => {
    const basic = Buffer.from(`admin:${PASSWORD}`).toString('base64');
    const out = createRedactor([`admin:${PASSWORD}`])(`Authorization: Basic ${basic}`);
    expect(out).toContain(REDACTED);
    expect(out).not.toContain(basic.slice(0, 12));
  });

  it('redacts a credential shorter than the fragment length only whole', () => {
    const out = createRedactor(['admin'])('user admin said administrator');
    expect(out).toBe(`user ${REDACTED} said ${REDACTED}istrator`);
  });

  it('leaves text without credentials unchanged', () => {
    expect(redact('NCERRResourceNotFound: Resource not found')).toBe(
      'NCERRResourceNotFound: Resource not found',
    );
  });
});

describe('redactAndClip', () => {
  it('redacts before clipping, so a credential cut by the clip is still removed', () => {
    const text = `${'x'.repeat(490)}${TOKEN}`;
    const out = redactAndClip(text, createRedactor([TOKEN]), 500);
    expect(out).toBe(`${'x'.repeat(490)}${REDACTED}`);
    expect(redactAndClip(`${text}${'y'.repeat(20)}`, createRedactor([TOKEN]), 500)).toBe(
      `${`${'x'.repeat(490)}${REDACTED}${'y'.repeat(20)}`.slice(0, 500)}...`,
    );
  });
});
