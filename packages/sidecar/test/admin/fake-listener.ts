import * as net from 'node:net';
import type { ProxyListener } from '../../src/listener';

/**
 * Stand-in for the data path's listeners: a real socket on port 0 that records how it was closed
 * (the drain budget it was given), and whose served count the test moves to play traffic.
 */
export async function fakeListener(closes: number[] = [], activity: { served: number } = { served: 0 }): Promise<ProxyListener> {
  const server = net.createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    inFlight: () => 0,
    served: () => activity.served,
    close: async (drainMs) => {
      closes.push(drainMs);
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
