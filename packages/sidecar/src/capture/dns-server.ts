import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { isIPv4 } from 'node:net';
import type { Logger } from '@weft/api';
import type { CompiledConfig } from '../config/types';
import type { ProxyListener } from '../listener';
import { answer, isInternetClass, readQuestion, TYPE_A } from './dns-wire';

export interface DnsOptions {
  readonly host: string;
  readonly port: number;
  readonly config: { readonly current: CompiledConfig | undefined };
  /** The resolver everything else goes to (default: the first nameserver of /etc/resolv.conf). */
  readonly upstream?: { readonly host: string; readonly port: number };
  readonly log: Logger;
}

const UPSTREAM_TIMEOUT_MS = 5000;

/**
 * A DNS responder for mesh names (`weft-init --dns` sends the app's port-53 traffic here, as
 * Istio's DNS proxy does): a name the authority table knows (`orders`, `orders.shop`,
 * `orders.shop.svc`, `orders.shop.svc.cluster.local`) is answered with the IPv4 hosts of the
 * service's ready endpoints, AAAA and other types with an empty answer so resolvers do not wait;
 * every other question is forwarded, unchanged, to the upstream resolver (UDP and TCP).
 */
/** How often `start` with port 0 tries another port when TCP finds the UDP port taken. */
const PORT_ZERO_ATTEMPTS = 5;

export class DnsServer implements ProxyListener {
  readonly #udp: UdpSocket;
  readonly #tcp: Server;
  readonly #options: DnsOptions;
  readonly #upstream: { readonly host: string; readonly port: number } | undefined;
  #served = 0;

  private constructor(options: DnsOptions, udp: UdpSocket, tcp: Server) {
    this.#options = options;
    this.#udp = udp;
    this.#tcp = tcp;
    this.#upstream = options.upstream ?? upstreamFromResolvConf();
  }

  /**
   * Binds UDP and TCP on the same port. With port 0 the kernel picks the UDP port, which some TCP
   * socket may already hold: then both are given up and another port is tried (a few times).
   */
  static async start(options: DnsOptions): Promise<DnsServer> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await DnsServer.#bind(options);
      } catch (err) {
        if (options.port !== 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= PORT_ZERO_ATTEMPTS) throw err;
      }
    }
  }

  static async #bind(options: DnsOptions): Promise<DnsServer> {
    const udp = createSocket('udp4');
    const tcp = createServer();
    const server = new DnsServer(options, udp, tcp);
    udp.on('message', (msg, from) => void server.#resolve(msg, false).then((reply) => reply && udp.send(reply, from.port, from.address)));
    udp.on('error', (err) => options.log.warn('DNS responder error', { error: err }));
    tcp.on('connection', (socket) => server.#serveTcp(socket));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(options.port, options.host, () => resolve());
    });
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(udp.address().port, options.host, () => resolve());
    }).catch((err: unknown) => {
      udp.close();
      throw err;
    });
    return server;
  }

  get port(): number {
    return this.#udp.address().port;
  }

  /** Questions are answered at once: nothing to drain. */
  inFlight(): number {
    return 0;
  }

  /** Questions received: an app still resolving names is still at work (a draining sidecar waits for it). */
  served(): number {
    return this.#served;
  }

  close(): Promise<void> {
    this.#udp.close();
    return new Promise((resolve) => this.#tcp.close(() => resolve()));
  }

  /** The answer to one message: ours for a mesh name, the upstream's otherwise (undefined: none). */
  async #resolve(msg: Buffer, tcp: boolean): Promise<Buffer | undefined> {
    this.#served += 1;
    const q = readQuestion(msg);
    const config = this.#options.config.current;
    const service = q && isInternetClass(q) ? config?.lookup(q.name) : undefined;
    if (q && config && service) return answer(msg, q, q.type === TYPE_A ? config.hostsOf(service) : []);
    if (!this.#upstream) return q ? answer(msg, q, [], 3) : undefined;
    try {
      return await (tcp ? forwardTcp(msg, this.#upstream) : forwardUdp(msg, this.#upstream));
    } catch (err) {
      this.#options.log.debug('DNS upstream did not answer', { error: err instanceof Error ? err : String(err) });
      return undefined;
    }
  }

  #serveTcp(socket: Socket): void {
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const msg = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + msg.length);
        void this.#resolve(Buffer.from(msg), true).then((reply) => {
          if (!reply || socket.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          socket.write(Buffer.concat([len, reply]));
        });
      }
    });
  }
}

function upstreamFromResolvConf(): { host: string; port: number } | undefined {
  try {
    for (const line of readFileSync('/etc/resolv.conf', 'utf8').split('\n')) {
      const m = /^\s*nameserver\s+(\S+)/.exec(line);
      if (m && isIPv4(m[1] as string)) return { host: m[1] as string, port: 53 };
    }
  } catch {
    // no resolv.conf: mesh names only
  }
  return undefined;
}

function forwardUdp(msg: Buffer, to: { host: string; port: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => done(new Error(`no answer from ${to.host}:${to.port} within ${UPSTREAM_TIMEOUT_MS}ms`)), UPSTREAM_TIMEOUT_MS);
    const done = (err: Error | undefined, reply?: Buffer): void => {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(reply as Buffer);
    };
    socket.on('error', (err) => done(err));
    socket.on('message', (reply) => done(undefined, reply));
    socket.send(msg, to.port, to.host);
  });
}

function forwardTcp(msg: Buffer, to: { host: string; port: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(to.port, to.host);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(msg.length);
    let got = Buffer.alloc(0);
    socket.setTimeout(UPSTREAM_TIMEOUT_MS, () => socket.destroy(new Error(`no answer from ${to.host}:${to.port} within ${UPSTREAM_TIMEOUT_MS}ms`)));
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        resolve(got.subarray(2, 2 + got.readUInt16BE(0)));
        socket.end();
      }
    });
    socket.write(Buffer.concat([len, msg]));
  });
}
