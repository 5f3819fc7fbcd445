import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files made for one test run: a CA, and a server and a client certificate it signed. */
export interface Certificates {
  readonly ca: string;
  /** For 127.0.0.1 and localhost. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** CN `edfs-router`, for brokers that ask the client for a certificate. */
  readonly clientCert: string;
  readonly clientKey: string;
}

/**
 * Generates, with openssl, a throwaway CA and two certificates it signed (P-256 keys, valid
 * one day) into `dir`, as an operator would for a broker with TLS.
 */
export async function makeCertificates(dir: string): Promise<Certificates> {
  const file = (name: string): string => join(dir, name);
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', [
    ...['req', '-x509', ...key, '-days', '1', '-subj', '/CN=edfs-test-ca'],
    ...['-keyout', file('ca.key'), '-out', file('ca.pem')],
  ]);
  const sign = async (name: string, cn: string, extensions: string): Promise<void> => {
    writeFileSync(file(`${name}.ext`), extensions);
    await run('openssl', [
      ...['req', ...key, '-subj', `/CN=${cn}`],
      ...['-keyout', file(`${name}.key`), '-out', file(`${name}.csr`)],
    ]);
    await run('openssl', [
      ...['x509', '-req', '-in', file(`${name}.csr`), '-days', '1'],
      ...['-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial'],
      ...['-extfile', file(`${name}.ext`), '-out', file(`${name}.pem`)],
    ]);
  };
  await sign(
    'server',
    'localhost',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  await sign('client', 'edfs-router', 'extendedKeyUsage=clientAuth\n');
  return {
    ca: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
  };
}
