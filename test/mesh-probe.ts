/**
 * A workload the test process itself runs: an mTLS server joined to the mesh the way a sidecar
 * joins (join token, Identity.Sign, a live Discovery.Stream announcing its address), so sidecars
 * send it traffic. It records the client certificate of every connection, which is how a test
 * sees what a sidecar presents when it dials out.
 */
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { DiscoveryResponse, SignResponse } from '@weft/api';
import { controlPlaneClient, openDiscoveryStream, readOperatorConfig } from '@weft/harness';
import { createCsr, generateKeyPair } from '@weft/pki';

export interface MeshProbe {
  /** Serial numbers of the client certificates, one per accepted connection, in order. */
  readonly clientSerials: string[];
  close(): Promise<void>;
}

export async function startMeshProbe(operatorConfigPath: string, service: string, token: string): Promise<MeshProbe> {
  const op = readOperatorConfig(operatorConfigPath);
  const spiffeId = `spiffe://${op.trustDomain}/ns/default/sa/${service}`;

  const keys = generateKeyPair();
  const identity = controlPlaneClient(op.endpoint, op, 'Identity');
  const signed = await new Promise<SignResponse>((resolve, reject) =>
    (identity as unknown as { Sign: (r: object, cb: (e: Error | null, v: SignResponse) => void) => void }).Sign(
      { csrPem: createCsr(spiffeId, keys.privateKeyPem), token, proxyId: `probe-${service}` },
      (err, value) => (err ? reject(err) : resolve(value)),
    ),
  ).finally(() => identity.close());
  const chainPem = signed.certificateChainPem.join('');

  const clientSerials: string[] = [];
  const server = https.createServer(
    { cert: chainPem, key: keys.privateKeyPem, ca: signed.trustBundlePem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' },
    (req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ app: service, url: req.url, headers: req.headers, bodyBytes: 0 })),
  );
  server.on('secureConnection', (socket: TLSSocket) => clientSerials.push(socket.getPeerX509Certificate()?.serialNumber ?? 'none'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const discovery = controlPlaneClient(op.endpoint, op, 'Discovery', { certificatePem: chainPem, privateKeyPem: keys.privateKeyPem });
  const call = openDiscoveryStream(discovery);
  call.on('error', () => undefined);
  call.on('data', (res: DiscoveryResponse) => call.write({ responseNonce: res.nonce, version: res.version, error: '' }));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  call.write({
    node: { proxyId: `probe-${service}`, service, namespace: 'default', address, labels: {}, ready: true, proxyVersion: 'test-probe', certificateExpiresAtMs: signed.expiresAtMs },
    responseNonce: '',
    version: '',
    error: '',
  });

  return {
    clientSerials,
    close: async () => {
      call.cancel();
      discovery.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
