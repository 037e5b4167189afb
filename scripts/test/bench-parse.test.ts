import { expect } from 'chai';
import { parseH2load, parseH2loadLog, parseWrk, parseWrkDuration } from '../bench/parse';

const WRK = `Running 2s test @ http://127.0.0.1:40269/1k.bin
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.42ms   21.39ms 151.22ms   93.32%
    Req/Sec   150.74     86.39   304.00     57.89%
  Latency Distribution
     50%  512.00us
     75%   12.80ms
     90%   26.43ms
     99%    1.30s
  293 requests in 2.04s, 372.26KB read
  Non-2xx or 3xx responses: 3
  Socket errors: connect 1, read 2, write 0, timeout 4
Requests/sec:    143.62
Transfer/sec:    182.47KB
`;

const H2LOAD = `starting benchmark...
spawning thread #0: 4 total client(s). 8000 total requests
finished in 2.00s, 1998.00 req/s, 201.37KB/s
requests: 4000 total, 4000 started, 3996 done, 3990 succeeded, 6 failed, 4 errored, 2 timeout
status codes: 3990 2xx, 0 3xx, 1 4xx, 2 5xx
traffic: 201.37KB (206203) total, 16.29KB (16680) headers (space savings 88.77%), 101.37KB (103800) data
                     min         max         mean         sd        +/- sd
time for request:      472us    147.43ms     11.98ms     18.24ms    87.78%
`;

describe('bench output parsing', () => {
  it('reads wrk durations in every unit it prints', () => {
    expect(parseWrkDuration('512.00us')).to.be.closeTo(0.512, 1e-9);
    expect(parseWrkDuration('12.80ms')).to.equal(12.8);
    expect(parseWrkDuration('1.30s')).to.equal(1300);
    expect(parseWrkDuration('2m')).to.equal(120_000);
    expect(() => parseWrkDuration('12 parsecs')).to.throw(/not a wrk duration/);
  });

  it('reads wrk --latency: rate, count, percentiles, max, and every kind of error', () => {
    const f = parseWrk(WRK);
    expect(f.requests).to.equal(293);
    expect(f.seconds).to.be.closeTo(2.04, 1e-9);
    expect(f.rate).to.equal(143.62);
    expect([f.p50, f.p90, f.p99, f.max]).to.deep.equal([0.512, 26.43, 1300, 151.22]);
    expect(f.errors).to.equal(3 + 1 + 2 + 4);
  });

  it('says what is missing when wrk printed something else', () => {
    expect(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused')).to.throw(/no request count/);
  });

  it('takes h2load percentiles from its log, counting only 2xx answers, and errors from the summary', () => {
    const log = parseH2loadLog(['1700000000000000\t200\t1000', '1700000000000100\t200\t3000', '1700000000000200\t-1\t90000', 'garbage', '1700000000000300\t200\t2000', ''].join('\n'));
    expect(log).to.have.length(4);
    const f = parseH2load(H2LOAD, log, true);
    expect(f.rate).to.equal(1998);
    expect(f.seconds).to.equal(2);
    expect(f.requests).to.equal(3990);
    expect(f.errors).to.equal(6 + 1 + 2); // failed streams + 4xx + 5xx
    expect(f.unanswered).to.equal(4); // started, never done when the duration ended
    expect([f.p50, f.p90, f.p99, f.max]).to.deep.equal([2, 3, 3, 3]);
    // In a closed loop the 4 calls in flight when the duration ended are not errors.
    expect(parseH2load(H2LOAD, log, false).errors).to.equal(6 + 1 + 2);
    expect(parseH2load(H2LOAD, log, false).unanswered).to.equal(0);
  });
});
