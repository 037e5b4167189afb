/**
 * Certificates for the nginx pair, made at run time with openssl: one CA, a server certificate
 * for the receiving proxy (SAN `nginx-server`) and a client certificate for the sending one.
 * P-256 keys, as the Weft sidecars use.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface PairCerts {
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** The name the sending proxy checks in the server's certificate. */
  readonly serverName: string;
}

const SERVER_NAME = 'nginx-server';

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function leaf(dir: string, name: string, extensions: string): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`], dir);
  fs.writeFileSync(path.join(dir, `${name}.ext`), extensions);
  // prettier-ignore
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '1', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`], dir);
}

export function makePairCerts(dir: string): PairCerts {
  fs.mkdirSync(dir, { recursive: true });
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=bench-ca', '-days', '1', '-sha256', '-out', 'ca.pem'], dir);
  leaf(dir, 'server', `subjectAltName=DNS:${SERVER_NAME}\nextendedKeyUsage=serverAuth\n`);
  leaf(dir, 'client', 'subjectAltName=DNS:nginx-client\nextendedKeyUsage=clientAuth\n');
  const at = (file: string): string => path.join(dir, file);
  return { ca: at('ca.pem'), serverCert: at('server.pem'), serverKey: at('server.key'), clientCert: at('client.pem'), clientKey: at('client.key'), serverName: SERVER_NAME };
}
