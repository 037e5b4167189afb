import { expect } from 'chai';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { percentile } from '../bench/closed-loop';
import { openLoop } from '../bench/open-loop';
import { latencyFigures } from '../bench/parse';
import { cpuSecondsPer1000, parseProcStat, parseStatusKb, ProcessSet } from '../bench/proc-stats';
import { rotation } from '../bench/slots';

describe('bench accounting', () => {
  it('reads utime+stime and the parent from /proc/<pid>/stat, even with spaces and parentheses in the name', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime ...
    const line = '4242 (nginx: (worker) x) S 4241 4241 1 0 -1 4194624 900 0 0 0 1234 56 7 8 20 0 1 0 100 1000 200';
    expect(parseProcStat(line)).to.deep.equal({ pid: 4242, ppid: 4241, cpuTicks: 1234 + 56, systemTicks: 56 });
    expect(() => parseProcStat('garbage')).to.throw(/not a \/proc/);
  });

  it('reads VmRSS and VmHWM from /proc/<pid>/status', () => {
    const status = 'Name:\tnode\nVmHWM:\t  209012 kB\nVmRSS:\t  108544 kB\nThreads:\t11\n';
    expect(parseStatusKb(status, 'VmRSS')).to.equal(108544);
    expect(parseStatusKb(status, 'VmHWM')).to.equal(209012);
    expect(parseStatusKb('Name:\tkthreadd\n', 'VmRSS')).to.be.NaN;
  });

  it('turns a tick delta into CPU seconds per 1000 requests (= vCPU per 1000 req/s)', () => {
    // 50 ticks at 100 Hz = 0.5 CPU s for 1000 requests.
    expect(cpuSecondsPer1000(250, 300, 100, 1000)).to.equal(0.5);
    // 585 CPU ms over 5000 requests at 500 req/s: 0.117 s per 1000, i.e. 0.117 vCPU at 1000 req/s.
    expect(cpuSecondsPer1000(0, 58.5, 100, 5000)).to.be.closeTo(0.117, 1e-12);
    expect(cpuSecondsPer1000(0, 10, 100, 0)).to.be.NaN;
  });

  it('reads this very process from /proc (CPU ticks only grow; RSS is non-zero)', () => {
    const self = new ProcessSet('self', [process.pid]);
    const before = self.cpuTicks();
    let x = 0;
    for (let i = 0; i < 5e6; i++) x += i;
    expect(x).to.be.greaterThan(0);
    expect(self.cpuTicks()).to.be.at.least(before);
    expect(self.rssKb()).to.be.greaterThan(1000);
  });

  it('takes nearest-rank percentiles and rotates the slot order by one per cell', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(latencyFigures(sorted)).to.deep.equal({ p50: 50, p90: 90, p99: 99, max: 100 });
    expect(percentile([], 50)).to.be.NaN;
    expect(rotation(['direct', 'nginx', 'weft'], 0)).to.deep.equal(['direct', 'nginx', 'weft']);
    expect(rotation(['direct', 'nginx', 'weft'], 4)).to.deep.equal(['nginx', 'weft', 'direct']);
  });
});

describe('open-loop generator', function () {
  this.timeout(20_000);
  let server: Server;
  let port: number;
  let holding = true;
  const held: ServerResponse[] = [];

  before(async () => {
    server = createServer((_req, res) => {
      if (holding) held.push(res);
      else res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('keeps sending on schedule through a stall and times each request from when it was due', async () => {
    holding = true;
    // The server holds every answer for the first 400 ms, then answers all it holds.
    setTimeout(() => {
      holding = false;
      for (const res of held.splice(0)) res.end('ok');
    }, 400);
    const f = await openLoop({ port, host: 'x', path: '/', rate: 50, seconds: 1 });
    expect(f.requests).to.equal(50);
    expect(f.errors).to.equal(0);
    // The first request was due at 0 and answered after the stall: a generator that waited for
    // answers before sending (coordinated omission) would have timed it, and the ones behind it,
    // from a later send.
    expect(f.max).to.be.at.least(380);
    // The 20 requests due during the stall (at 0, 20, ..., 380 ms) waited 400, 380, ..., 20 ms, so
    // the 5th slowest of 50 (the p90) waited at least about 320 ms. A generator that sent only
    // after each answer would have seen one slow request and a fast p90.
    expect(f.p90).to.be.at.least(250);
  });

  it('cuts off what is still unanswered after the grace, counted as unanswered (not errors) with their age as latency', async () => {
    holding = true;
    const f = await openLoop({ port, host: 'x', path: '/', rate: 20, seconds: 0.5, graceMs: 300 });
    holding = false;
    for (const res of held.splice(0)) res.destroy();
    expect(f.requests).to.equal(0);
    expect(f.unanswered).to.equal(10);
    expect(f.errors).to.equal(0);
    // The last one was due at 450 ms and cut at 800: at least 300 ms old.
    expect(f.p50).to.be.at.least(300);
  });
});
