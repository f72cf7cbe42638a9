import { generate } from 'selfsigned';

/** A PEM certificate with its private key. */
export interface CertAndKey {
  readonly cert: string;
  readonly key: string;
}

/** The simulator's TLS material: a private CA and a server certificate it signed. */
export interface SimulatorTls {
  readonly ca: CertAndKey;
  readonly server: CertAndKey;
}

/** Generates a throwaway certificate authority (EC P-256, valid for a day). */
export async function generateCa(commonName = 'CCKM Deletion Guard local CA'): Promise<CertAndKey> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const ca = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 24 * 3600_000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return { cert: ca.cert, key: ca.private };
}

/** Generates a CA and a server certificate for 127.0.0.1 and localhost signed by it. */
export async function generateSimulatorTls(): Promise<SimulatorTls> {
  const ca = await generateCa();
  const notBeforeDate = new Date(Date.now() - 60_000);
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 24 * 3600_000),
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { ca, server: { cert: server.cert, key: server.private } };
}
