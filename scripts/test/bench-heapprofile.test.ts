import { expect } from 'chai';
import { summarizeHeap, type HeapNode } from '../bench/heapprofile';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });
const ACCEPT = 'file:///repo/packages/sidecar/dist/src/outbound/accept.js';
const UNDICI = 'file:///repo/packages/sidecar/node_modules/undici/lib/dispatcher/client.js';
const node = (callFrame: HeapNode['callFrame'], selfSize: number, children: HeapNode[] = []): HeapNode => ({ callFrame, selfSize, children });

// (root) -> handle (accept.js, 100 B) -> dispatch (undici, 300 B) -> handle again (accept.js, 50 B); (root) -> Map (native, 40 B).
const PROFILE = {
  head: node(frame('(root)'), 0, [
    node(frame('handle', ACCEPT, 9), 100, [node(frame('dispatch', UNDICI, 99), 300, [node(frame('handle', ACCEPT, 9), 50)])]),
    node(frame('Map'), 40),
  ]),
};

describe('heap profile summary', () => {
  it('adds the bytes each function allocates itself, recursion included', () => {
    const s = summarizeHeap(PROFILE);
    expect(s.totalBytes).to.equal(490);
    expect(s.selfByFunction).to.deep.include({ name: 'handle sidecar/outbound/accept.js:10', bytes: 150 });
    expect(s.selfByFunction).to.deep.include({ name: 'dispatch undici/lib/dispatcher/client.js:100', bytes: 300 });
    expect(s.selfByFunction).to.deep.include({ name: 'Map (native)', bytes: 40 });
  });

  it("puts callees' bytes on Weft's own functions once, not on dependencies installed under packages/", () => {
    const s = summarizeHeap(PROFILE);
    expect(s.inclusiveWeft).to.deep.equal([{ name: 'handle sidecar/outbound/accept.js:10', bytes: 450 }]);
  });
});
