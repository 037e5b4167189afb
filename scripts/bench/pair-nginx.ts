/** The nginx pair: two Debian nginx reverse proxies with TLS 1.3 mTLS between them. */
import * as path from 'node:path';
import { findFreePorts } from '@weft/harness';
import { makePairCerts } from './certs';
import type { Configuration, Upstreams } from './configuration';
import { clientProxyBlock, NginxProcess, serverProxyBlock } from './nginx';
import { ProcessSet, withChildren } from './proc-stats';

export async function startNginxPair(dir: string, upstreams: Upstreams): Promise<Configuration> {
  const certs = makePairCerts(path.join(dir, 'certs'));
  const [http, grpc, tlsHttp, tlsGrpc] = (await findFreePorts(4)) as [number, number, number, number];
  const started: NginxProcess[] = [];
  try {
    const serverBlock = serverProxyBlock({ tlsHttp, tlsGrpc, appHttp: upstreams.httpPort, appGrpc: upstreams.grpcPort }, certs);
    started.push(await NginxProcess.start('nginx-server', path.join(dir, 'nginx-server'), serverBlock, [tlsHttp, tlsGrpc]));
    const clientBlock = clientProxyBlock({ http, grpc, peerHttp: tlsHttp, peerGrpc: tlsGrpc }, certs);
    started.push(await NginxProcess.start('nginx-client', path.join(dir, 'nginx-client'), clientBlock, [http, grpc]));
  } catch (err) {
    await Promise.all(started.map((p) => p.stop()));
    throw err;
  }
  const [server, client] = started as [NginxProcess, NginxProcess];
  // Workers are forked once at start (worker_processes 1), so the member list is fixed.
  const sets = { client: new ProcessSet('nginx client proxy', withChildren(client.pid)), server: new ProcessSet('nginx server proxy', withChildren(server.pid)) };
  return {
    name: 'nginx',
    label: 'nginx pair',
    target: (protocol) => ({ port: protocol === 'http' ? http : grpc, host: 'upstream' }),
    proxies: () => ({ ...sets, others: [] }),
    stop: async () => void (await Promise.all(started.map((p) => p.stop()))),
  };
}
