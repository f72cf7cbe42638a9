import 'aws-sdk-client-mock-vitest/extend';
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { generate } from 'selfsigned';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CckmClient, createCckmClient } from '../../../functions/adapters/cckm-client.ts';
import { UpstreamError } from '../../../functions/shared/errors.ts';
import { CCKM_ID, keyRecord, makeJwt, REFRESH_TOKEN } from '../../helpers/cm-fakes.ts';

/** Real TLS: a node:https server on 127.0.0.1 with a self-signed certificate. */

async function certificate(commonName: string) {
  return generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
}

let server: Server;
let origin: string;
let serverCert: string;
let otherCert: string;
const requests: string[] = [];
/** GETs still to answer 503, then 401. */
let unavailable = 0;
let unauthorized = 0;
const sm = mockClient(SecretsManagerClient);
let client: CckmClient | undefined;

beforeAll(async () => {
  const [own, other] = await Promise.all([certificate('cm-under-test'), certificate('someone-else')]);
  serverCert = own.cert;
  otherCert = other.cert;
  server = createServer({ key: own.private, cert: own.cert }, (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/json');
    if (req.method === 'GET' && unauthorized > 0 && unavailable === 0) {
      unauthorized--;
      res.statusCode = 401;
      res.end(JSON.stringify({ code: 5, codeDesc: 'NCERRUnauthorizedAccess: Token is expired' }));
      return;
    }
    if (req.method === 'GET' && unavailable > 0) {
      unavailable--;
      res.statusCode = 503;
      res.end(JSON.stringify({ code: 14, codeDesc: 'NCERRInternalServerError: service unavailable' }));
      return;
    }
    if (req.url === '/api/v1/auth/tokens') {
      res.end(JSON.stringify({ jwt: makeJwt({ exp: Math.floor(Date.now() / 1000) + 300 }), duration: 300 }));
    } else {
      res.end(JSON.stringify(keyRecord()));
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
});

afterEach(async () => {
  await client?.close();
  client = undefined;
  sm.reset();
  requests.length = 0;
});

function connect(secret: Record<string, unknown>, tlsInsecure = false, now: () => number = Date.now) {
  sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(secret) });
  const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  client = createCckmClient(
    { cckmUrl: origin, secretId: 'cckm/tls', tlsInsecure, timeoutMs: 5000 },
    { secretsClient: new SecretsManagerClient({ region: 'us-east-1' }), logger, now },
  );
  return { client, logger };
}

describe('TLS to CipherTrust Manager', () => {
  it('works when ca_cert is the CA of the server certificate', async () => {
    const { client } = connect({ refresh_token: REFRESH_TOKEN, ca_cert: serverCert });
    await expect(client.getKey(CCKM_ID)).resolves.toMatchObject({ cckmId: CCKM_ID });
    expect(requests).toEqual(['POST /api/v1/auth/tokens', `GET /api/v1/cckm/aws/keys/${CCKM_ID}`]);
    expect(client.stats().agentsCreated).toBe(1);
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });

  it('fails fast with UpstreamError, not a hang, when ca_cert is another CA', async () => {
    const { client } = connect({ refresh_token: REFRESH_TOKEN, ca_cert: otherCert });
    const call = client.getKey(CCKM_ID);
    await expect(call).rejects.toBeInstanceOf(UpstreamError);
    await expect(call).rejects.toThrow(/TLS verification of CipherTrust Manager failed/);
    // Fast means no retry loop: a certificate failure is final on the first attempt.
    expect(client.stats()).toMatchObject({ retries: 0, requests: 1 });
    expect(requests).toEqual([]);
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });

  it('does not trust a self-signed server through the system CAs', async () => {
    const { client } = connect({ refresh_token: REFRESH_TOKEN });
    await expect(client.getKey(CCKM_ID)).rejects.toThrow(/TLS verification of CipherTrust Manager failed/);
    expect(requests).toEqual([]);
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });

  it('skips verification with CCKM_TLS_INSECURE=true and warns at creation', async () => {
    const { client, logger } = connect({ refresh_token: REFRESH_TOKEN }, true);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('NOT verified'));
    await expect(client.getKey(CCKM_ID)).resolves.toMatchObject({ cckmId: CCKM_ID });
    expect(requests).toHaveLength(2);
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });

  it('sends a retry through the newest Agent when ca_cert rotates during its backoff', async () => {
    const rotated = `${serverCert}\n${otherCert}`;
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify({ refresh_token: REFRESH_TOKEN, ca_cert: serverCert }) })
      .resolves({ SecretString: JSON.stringify({ refresh_token: REFRESH_TOKEN, ca_cert: rotated }) });
    let rotatedCall: Promise<unknown> | undefined;
    const c = createCckmClient(
      { cckmUrl: origin, secretId: 'cckm/tls', tlsInsecure: false, timeoutMs: 5000 },
      {
        secretsClient: new SecretsManagerClient({ region: 'us-east-1' }),
        logger: { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() },
        random: () => 0,
        // During the backoff another call gets a 401 and re-reads the secret, now rotated: its new
        // ca_cert replaces the Agent and closes the one the first call started with.
        sleep: async () => {
          rotatedCall ??= c.getKey(CCKM_ID);
          await rotatedCall;
        },
      },
    );
    client = c;
    unavailable = 1;
    unauthorized = 1;
    await expect(c.getKey(CCKM_ID)).resolves.toMatchObject({ cckmId: CCKM_ID });
    await expect(rotatedCall).resolves.toMatchObject({ cckmId: CCKM_ID });
    expect(c.stats()).toMatchObject({ agentsCreated: 2, retries: 1 });
    expect(unavailable + unauthorized).toBe(0);
  });

  it('builds a new Agent only when ca_cert changes on rotation', async () => {
    let skew = 0;
    const { client } = connect(
      { refresh_token: REFRESH_TOKEN, ca_cert: otherCert },
      false,
      () => Date.now() + skew,
    );
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify({ refresh_token: REFRESH_TOKEN, ca_cert: otherCert }) })
      .resolves({ SecretString: JSON.stringify({ refresh_token: REFRESH_TOKEN, ca_cert: serverCert }) });
    await expect(client.getKey(CCKM_ID)).rejects.toBeInstanceOf(UpstreamError);
    skew = 301_000; // past the 5-minute secret cache: the rotated secret is read
    await expect(client.getKey(CCKM_ID)).resolves.toMatchObject({ cckmId: CCKM_ID });
    skew = 602_000; // read again, same ca_cert: the Agent is kept
    await expect(client.getKey(CCKM_ID)).resolves.toMatchObject({ cckmId: CCKM_ID });
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 3);
    expect(client.stats().agentsCreated).toBe(2);
  });
});
