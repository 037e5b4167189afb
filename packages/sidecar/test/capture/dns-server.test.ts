import { createSocket } from 'node:dgram';
import { connect, createServer, type AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createLogger } from '@weft/api';
import { findFreePort } from '@weft/harness';
import { DnsServer } from '../../src/capture/dns-server';
import { answer, readQuestion, TYPE_A, TYPE_AAAA } from '../../src/capture/dns-wire';
import { compileSnapshot } from '../../src/config/compiled-config';
import { SELF, service, snapshot } from '../config/snapshot-builder';

const config = compileSnapshot(
  snapshot({
    services: [
      service('orders', [{ address: '10.0.0.7:15006', appPort: 8080 }, { address: '10.0.0.8:15006', appPort: 8080 }, { address: '10.0.0.9:15006', appPort: 8080, ready: false }]),
      service('legacy', [{ address: '10.0.0.20:15006' }]), // announced no app port (an older sidecar)
    ],
  }),
  'v1',
  SELF,
);

function query(name: string, type: number, id = 7): Buffer {
  const labels = name.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([...labels, 0]), tail]);
}

/** The IPv4 answers of a reply (A records follow the question, 16 bytes each with a name pointer). */
function addressesOf(reply: Buffer, q: Buffer): string[] {
  const count = reply.readUInt16BE(6);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push([...reply.subarray(q.length + i * 16 + 12, q.length + i * 16 + 16)].join('.'));
  return out;
}

function askUdp(port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.on('message', (reply) => {
      s.close();
      resolve(reply);
    });
    s.on('error', reject);
    s.send(msg, port, '127.0.0.1');
  });
}

describe('DNS responder', () => {
  let server: DnsServer;
  let upstream: ReturnType<typeof createSocket>;
  const forwarded: string[] = [];

  before(async () => {
    // A stand-in for the host's resolver: answers everything with 192.0.2.1.
    upstream = createSocket('udp4');
    upstream.on('message', (msg, from) => {
      const q = readQuestion(msg);
      if (!q) return;
      forwarded.push(q.name);
      upstream.send(answer(msg, q, ['192.0.2.1']), from.port, from.address);
    });
    await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', () => resolve()));
    // The responder serves UDP and TCP on one port: with port 0 it takes the UDP port the kernel
    // picked and then binds TCP to it, which fails if an outgoing connection of another process
    // holds that number (other test files run at the same time). A port below the ephemeral range
    // is not handed out that way.
    server = await DnsServer.start({ host: '127.0.0.1', port: await findFreePort(), config: { current: config }, upstream: { host: '127.0.0.1', port: upstream.address().port }, log: createLogger('dns-test') });
  });

  after(async () => {
    await server?.close();
    upstream?.close();
  });

  it('answers every name form of a mesh service with its ready endpoints\' hosts', async () => {
    for (const name of ['orders', 'orders.default', 'orders.default.svc', 'Orders.default.svc.cluster.local']) {
      const q = query(name, TYPE_A);
      const reply = await askUdp(server.port, q);
      expect(reply.readUInt16BE(0)).to.equal(7);
      expect(reply.readUInt16BE(2) & 0x000f, name).to.equal(0);
      expect(addressesOf(reply, q).sort(), name).to.deep.equal(['10.0.0.7', '10.0.0.8']);
    }
    expect(forwarded).to.deep.equal([]);
  });

  it('answers AAAA for a mesh name with nothing (no wait for an upstream), and a service without app ports with no address', async () => {
    const aaaa = await askUdp(server.port, query('orders', TYPE_AAAA));
    expect(aaaa.readUInt16BE(6)).to.equal(0);
    const legacy = await askUdp(server.port, query('legacy', TYPE_A));
    expect(legacy.readUInt16BE(6)).to.equal(0);
    expect(forwarded).to.deep.equal([]);
  });

  it('forwards other names to the upstream resolver, and answers over TCP too', async () => {
    const q = query('example.org', TYPE_A, 9);
    expect(addressesOf(await askUdp(server.port, q), q)).to.deep.equal(['192.0.2.1']);
    expect(forwarded).to.deep.equal(['example.org']);
    // TCP (resolvers retry truncated answers over it): length-prefixed messages.
    const tq = query('orders.default', TYPE_A, 11);
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const s = connect(server.port, '127.0.0.1', () => s.write(Buffer.concat([Buffer.from([tq.length >> 8, tq.length & 0xff]), tq])));
      let got = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
          s.end();
          resolve(got.subarray(2));
        }
      });
      s.on('error', reject);
    });
    expect(reply.readUInt16BE(0)).to.equal(11);
    expect(addressesOf(reply, tq).sort()).to.deep.equal(['10.0.0.7', '10.0.0.8']);
  });

  it('binds UDP and TCP on one port: a TCP port already taken fails the start with EADDRINUSE and frees the UDP port; port 0 finds a port both have', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const log = createLogger('dns-test');
      let error: NodeJS.ErrnoException | undefined;
      await DnsServer.start({ host: '127.0.0.1', port, config: { current: config }, log }).catch((err: NodeJS.ErrnoException) => (error = err));
      expect(error?.code).to.equal('EADDRINUSE');
      const udp = createSocket('udp4'); // the failed start left nothing bound on that UDP port
      await new Promise<void>((resolve, reject) => udp.once('error', reject).bind(port, '127.0.0.1', resolve));
      udp.close();
      const started = await Promise.all(Array.from({ length: 10 }, () => DnsServer.start({ host: '127.0.0.1', port: 0, config: { current: config }, log })));
      try {
        for (const dns of started) expect(dns.port).to.be.above(0);
        expect(new Set(started.map((d) => d.port)).size).to.equal(10);
      } finally {
        await Promise.all(started.map((d) => d.close()));
      }
    } finally {
      taken.close();
    }
  });
});
