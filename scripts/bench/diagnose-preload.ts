/**
 * Preloaded into the sidecars by `npm run bench:diagnose` (NODE_OPTIONS=--require ...). Records,
 * from start, garbage-collection pauses (perf_hooks 'gc' entries with their wall-clock time),
 * event-loop delay (monitorEventLoopDelay, 1 ms resolution) and how many sockets the process
 * opens (tls.connect / net.connect; how many TLS sessions were resumed) or accepts (TLS servers' secureConnection). Each SIGUSR2
 * writes `<WEFT_BENCH_DIAG_DIR>/<pid>-<n>.json` with those since the previous signal plus the
 * memory breakdown (process.memoryUsage, V8 heap spaces, /proc/self/status and smaps_rollup);
 * with WEFT_BENCH_DIAG_HEAP=1 also a heap snapshot next to it.
 */
import type * as Net from 'node:net';
import type * as Tls from 'node:tls';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';

// The modules themselves (not TypeScript's getter-only namespace copies), so connect can be wrapped.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const net = require('node:net') as typeof Net;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tls = require('node:tls') as typeof Tls;
const dir = process.env['WEFT_BENCH_DIAG_DIR'];
// V8 flags NODE_OPTIONS refuses (--optimize-for-size), for trying them; those read at run time take effect.
if (process.env['WEFT_BENCH_DIAG_V8_FLAGS']) v8.setFlagsFromString(process.env['WEFT_BENCH_DIAG_V8_FLAGS']);
if (dir) {
  const epoch = (): number => performance.timeOrigin + performance.now();
  let gcs: { at: number; ms: number; kind: number }[] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ at: performance.timeOrigin + e.startTime, ms: e.duration, kind: ((e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1) });
  }).observe({ entryTypes: ['gc'] });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  // Event-loop stalls with their time: a 2 ms interval that fires late by more than 10 ms.
  let stalls: { at: number; ms: number }[] = [];
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - last > 12) stalls.push({ at: performance.timeOrigin + now, ms: now - last - 2 });
    last = now;
  }, 2).unref();
  const counts = { tlsConnect: 0, tlsResumed: 0, tlsEndedByPeer: 0, tlsClosedHere: 0, netConnect: 0, tlsAccepted: 0 };
  const tlsConnect = tls.connect;
  (tls as { connect: typeof Tls.connect }).connect = ((...args: Parameters<typeof Tls.connect>) => {
    counts.tlsConnect += 1;
    const socket = tlsConnect(...args);
    socket.once('secureConnect', () => {
      if (socket.isSessionReused()) counts.tlsResumed += 1;
    });
    // Who ended a connection: the peer (its FIN came first) or this process.
    let peerEnded = false;
    socket.once('end', () => (peerEnded = true));
    socket.once('close', () => {
      if (peerEnded) counts.tlsEndedByPeer += 1;
      else counts.tlsClosedHere += 1;
    });
    return socket;
  }) as typeof Tls.connect;
  const netConnect = net.connect;
  const counted = ((...args: Parameters<typeof Net.connect>) => {
    counts.netConnect += 1;
    return (netConnect as (...a: unknown[]) => Net.Socket)(...args);
  }) as typeof Net.connect;
  (net as { connect: typeof Net.connect }).connect = counted;
  (net as { createConnection: typeof Net.createConnection }).createConnection = counted;
  // The sidecar's TLS server never listens itself (its listener hands it connections), so the
  // count is hooked where the server is made.
  const createTlsServer = tls.createServer;
  (tls as { createServer: typeof Tls.createServer }).createServer = ((...args: unknown[]) => {
    const server = (createTlsServer as (...a: unknown[]) => Tls.Server)(...args);
    server.on('secureConnection', () => (counts.tlsAccepted += 1));
    return server;
  }) as typeof Tls.createServer;
  const proc = (file: string): Record<string, number> => {
    const out: Record<string, number> = {};
    try {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/^(\w+):\s+(\d+) kB/gm)) out[m[1] as string] = Number(m[2]);
    } catch {
      /* not Linux */
    }
    return out;
  };
  /** The mappings holding more than 1 MB resident: where RSS beyond the V8 heap sits (malloc arenas, heap pages, code). */
  const bigMappings = (): { range: string; sizeKb: number; rssKb: number; name: string }[] => {
    const out: { range: string; sizeKb: number; rssKb: number; name: string }[] = [];
    let head: { range: string; name: string } | undefined;
    let size = 0;
    try {
      for (const line of fs.readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
        const m = /^([0-9a-f]+-[0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
        if (m) head = { range: m[1] as string, name: (m[2] ?? '').trim() };
        else if (line.startsWith('Size:')) size = Number(line.split(/\s+/)[1]);
        else if (line.startsWith('Rss:') && head && Number(line.split(/\s+/)[1]) > 1024) out.push({ ...head, sizeKb: size, rssKb: Number(line.split(/\s+/)[1]) });
      }
    } catch {
      /* not Linux */
    }
    return out;
  };
  let n = 0;
  process.on('SIGUSR2', () => {
    n += 1;
    const base = path.join(dir, `${process.pid}-${n}`);
    const mb = (b: number): number => Math.round((b / 1048576) * 10) / 10;
    const mem = process.memoryUsage();
    const report = {
      pid: process.pid,
      at: epoch(),
      memoryUsage: Object.fromEntries(Object.entries(mem).map(([k, v]) => [k, mb(v)])),
      heapSpaces: Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: mb(s.space_size), used: mb(s.space_used_size) }])),
      heap: Object.fromEntries(Object.entries(v8.getHeapStatistics()).map(([k, v]) => [k, typeof v === 'number' && v > 4096 ? mb(v) : v])),
      status: proc('/proc/self/status'),
      smaps: proc('/proc/self/smaps_rollup'),
      bigMappings: bigMappings(),
      eventLoopDelay: { p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6, mean: delay.mean / 1e6 },
      gcs,
      stalls,
      counts: { ...counts },
      handles: (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length,
    };
    gcs = [];
    stalls = [];
    delay.reset();
    fs.writeFileSync(`${base}.json.tmp`, JSON.stringify(report));
    if (process.env['WEFT_BENCH_DIAG_HEAP'] === '1') v8.writeHeapSnapshot(`${base}.heapsnapshot`);
    fs.renameSync(`${base}.json.tmp`, `${base}.json`);
  });
}
