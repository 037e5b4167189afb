import { connect } from 'node:net';

/**
 * What a TCP connect to an address says about whoever should listen there:
 * `listening`: something accepted the connection; `refused`: nothing listens (the process is
 * gone); `unknown`: no answer in time, or another network error (a firewall, a partition), which
 * proves nothing either way.
 */
export type ConnectProbeResult = 'listening' | 'refused' | 'unknown';

/**
 * Opens and at once closes one TCP connection to `host:port`. Used where a peer may be gone and
 * the cheapest certain answer is wanted: the control plane after a sidecar's stream ends, a
 * sidecar before it lets an endpoint whose connection failed back into balancing. A refused
 * connect is certain; anything else is left `unknown` for the caller's slower rule to decide.
 */
export function probeConnect(host: string, port: number, timeoutMs: number): Promise<ConnectProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.unref(); // a probe never keeps a process alive
    const done = (result: ConnectProbeResult): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done('unknown'));
    socket.once('connect', () => done('listening'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'unknown'));
  });
}
