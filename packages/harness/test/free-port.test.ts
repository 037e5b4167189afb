import * as fs from 'node:fs';
import * as net from 'node:net';
import { expect } from 'chai';
import { findFreePorts } from '../src/free-port';

describe('findFreePorts', () => {
  it('returns distinct ports that can be bound, below the ephemeral range where port-0 binds land', async () => {
    const ports = await findFreePorts(5);
    expect(new Set(ports).size).to.equal(5);
    if (fs.existsSync('/proc/sys/net/ipv4/ip_local_port_range')) {
      const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
      for (const port of ports) expect(port).to.be.below(low).and.at.least(10_000);
    }
    for (const port of ports) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
