import { expect } from 'chai';
import { shortFile, summarize, type CpuProfile } from '../bench/cpuprofile';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });
const SIDECAR = 'file:///repo/packages/sidecar/dist/src/outbound/accept.js';
const UNDICI = 'file:///repo/node_modules/undici/lib/dispatcher/client.js';

// (root) -> handle (accept.js) -> dispatch (undici) -> handle again (accept.js, recursion); plus idle and GC.
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 5, 6] },
    { id: 2, callFrame: frame('handle', SIDECAR, 9), children: [3] },
    { id: 3, callFrame: frame('dispatch', UNDICI, 99), children: [4] },
    { id: 4, callFrame: frame('handle', SIDECAR, 9) },
    { id: 5, callFrame: frame('(idle)') },
    { id: 6, callFrame: frame('(garbage collector)') },
  ],
  startTime: 1_000,
  endTime: 1_000 + 7_000,
  samples: [2, 3, 4, 5, 5, 6, 3],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

describe('cpuprofile summary', () => {
  it('names files after node_modules/ or packages/, dropping dist/src', () => {
    expect(shortFile(SIDECAR)).to.equal('sidecar/outbound/accept.js');
    expect(shortFile(UNDICI)).to.equal('undici/lib/dispatcher/client.js');
    expect(shortFile('node:internal/streams/readable')).to.equal('node:internal/streams/readable');
  });

  it('adds self time per function, keeps idle and GC apart, and counts a file once per sample when inclusive', () => {
    const s = summarize(PROFILE);
    expect(s.totalMs).to.equal(7);
    expect(s.idleMs).to.equal(2);
    expect(s.gcMs).to.equal(1);
    expect(s.selfByFunction).to.deep.include({ name: 'handle sidecar/outbound/accept.js:10', ms: 2 });
    expect(s.selfByFunction).to.deep.include({ name: 'dispatch undici/lib/dispatcher/client.js:100', ms: 2 });
    // accept.js is on the stack of samples 2, 3, 4 (twice in 4, counted once) and the last 3.
    expect(s.inclusiveByFile).to.deep.include({ name: 'sidecar/outbound/accept.js', ms: 4 });
    expect(s.inclusiveByFile).to.deep.include({ name: 'undici/lib/dispatcher/client.js', ms: 3 });
  });

  it('counts only samples inside the window', () => {
    // Sample times: 2000, 3000, ..., 8000. [3000, 5000) holds the samples of nodes 3 and 4.
    const s = summarize(PROFILE, { fromUs: 3_000, toUs: 5_000 });
    expect(s.totalMs).to.equal(2);
    expect(s.selfByFunction.map((e) => e.name)).to.have.members(['dispatch undici/lib/dispatcher/client.js:100', 'handle sidecar/outbound/accept.js:10']);
  });
});
