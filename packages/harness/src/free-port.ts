import * as fs from 'node:fs';
import * as net from 'node:net';

/** Where the kernel picks ports for `listen(0)` and outgoing connections (Linux defaults otherwise). */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && high && low < high) return [low, high];
  } catch {
    // Not Linux: assume the IANA range, which macOS and Windows use.
    return [49152, 65535];
  }
  return [32768, 60999];
}

function tryListen(port: number, host: string): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, host, () => resolve(server));
  });
}

/**
 * `count` distinct loopback ports that were free a moment ago. Only for the one case where a port
 * must be known before the process that binds it starts (an app and its sidecar each need the
 * other's port); everywhere else, bind port 0 and read the port back.
 *
 * The ports come from below the kernel's ephemeral range. Between this call and the real bind,
 * other processes keep binding port 0 and opening connections, and those take ports from the
 * ephemeral range only, so a port chosen outside it is not taken from under us.
 */
export async function findFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const [low] = ephemeralRange();
  const floor = 10_000;
  const span = low - floor;
  const servers: net.Server[] = [];
  try {
    for (let tries = 0; servers.length < count && tries < 200; tries++) {
      // Below the ephemeral range when there is room for it; else let the kernel choose.
      const candidate = span > 1_000 ? floor + Math.floor(Math.random() * span) : 0;
      const server = await tryListen(candidate, host);
      if (server) servers.push(server);
    }
    if (servers.length < count) throw new Error(`could not find ${count} free ports on ${host}`);
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return (await findFreePorts(1, host))[0] as number;
}
