import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createH2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';

export interface DualProtocolApp {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * An app that takes HTTP/1.1 and h2c (prior knowledge) on one port, told apart by the HTTP/2
 * preface, and answers `x-app-saw: HTTP/<version> marker=<x-weft-caller-protocol or (none)>`: so
 * a test sees which protocol the sidecar chose for it and whether a mesh marker leaked through.
 */
export async function startDualProtocolApp(): Promise<DualProtocolApp> {
  const handle = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void => {
    req.resume();
    req.on('end', () => {
      const marker = req.headers['x-weft-caller-protocol'] ?? '(none)';
      res.setHeader('x-app-saw', `HTTP/${req.httpVersion} marker=${String(marker)}`);
      res.end('ok');
    });
  };
  const http1 = createHttp1Server(handle);
  const h2 = createH2Server(handle);
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', (head: Buffer) => {
      socket.pause();
      socket.unshift(head);
      if (head.subarray(0, 3).toString('latin1') === 'PRI') return void h2.emit('connection', socket);
      http1.emit('connection', socket);
      socket.resume(); // the HTTP/1.1 server reads a paused socket only once it flows again
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
