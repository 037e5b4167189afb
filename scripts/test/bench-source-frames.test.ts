import { expect } from 'chai';
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { summarize, type CpuProfile } from '../bench/cpuprofile';
import { SourceFrames, withSourceFrames, withSourceTree } from '../bench/source-frames';

/** A real esbuild bundle of two modules on one line (minified whitespace, as the sidecar's), with its external map. */
function bundle(dir: string): { readonly url: string; readonly code: string } {
  const src = path.join(dir, 'packages', 'sidecar', 'src');
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'first.ts'), 'export function first(n: number): number {\n  return n + 1;\n}\n');
  fs.writeFileSync(path.join(src, 'second.ts'), "import { first } from './first';\n\nexport const handlers = [\n  (n: number) => first(n) * 7919,\n];\n");
  const out = path.join(dir, 'packages', 'sidecar', 'dist', 'bundle', 'main.js');
  esbuild.buildSync({ entryPoints: [path.join(src, 'second.ts')], bundle: true, outfile: out, platform: 'node', format: 'cjs', minifyWhitespace: true, sourcemap: 'external' });
  return { url: pathToFileURL(out).href, code: fs.readFileSync(out, 'utf8') };
}

/** 0-based line and column of `needle` in the bundle, as V8 reports a frame's position. */
function position(code: string, needle: string): { lineNumber: number; columnNumber: number } {
  const at = code.indexOf(needle);
  const before = code.slice(0, at).split('\n');
  return { lineNumber: before.length - 1, columnNumber: (before.at(-1) ?? '').length };
}

describe('profile frames on the TypeScript sources', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-source-frames-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('maps a bundle frame, named or anonymous, to its source file and line', () => {
    const { url, code } = bundle(dir);
    const frames = new SourceFrames();
    const named = frames.original({ functionName: 'first', url, ...position(code, 'function first') });
    expect(named.url).to.equal(path.join(dir, 'packages', 'sidecar', 'src', 'first.ts'));
    expect(named.lineNumber).to.equal(0);
    const anonymous = frames.original({ functionName: '', url, ...position(code, '*7919') });
    expect(anonymous.url).to.equal(path.join(dir, 'packages', 'sidecar', 'src', 'second.ts'));
    expect(anonymous.lineNumber).to.equal(3);
  });

  it('leaves frames without a map (node internals, native) as they are', () => {
    const frames = new SourceFrames();
    const internal = { functionName: 'write', url: 'node:internal/streams/writable', lineNumber: 10, columnNumber: 4 };
    expect(frames.original(internal)).to.equal(internal);
    const plain = path.join(dir, 'plain.js');
    fs.writeFileSync(plain, 'module.exports = 1;\n');
    const noMap = { functionName: 'x', url: pathToFileURL(plain).href, lineNumber: 0, columnNumber: 0 };
    expect(frames.original(noMap)).to.equal(noMap);
  });

  it('puts the summary of a bundled profile on source files, and maps heap trees too', () => {
    const { url, code } = bundle(dir);
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2] },
        { id: 2, callFrame: { functionName: '', url, ...position(code, '*7919') }, children: [3] },
        { id: 3, callFrame: { functionName: 'first', url, ...position(code, 'function first') } },
      ],
      startTime: 0,
      endTime: 2_000,
      samples: [2, 3],
      timeDeltas: [1000, 1000],
    };
    const s = summarize(withSourceFrames(profile));
    expect(s.inclusiveByFile).to.deep.include({ name: 'sidecar/src/second.ts', ms: 2 });
    expect(s.selfByFunction).to.deep.include({ name: 'first sidecar/src/first.ts:1', ms: 1 });
    expect(s.selfByFunction).to.deep.include({ name: '(anonymous) sidecar/src/second.ts:4', ms: 1 });
    const tree = withSourceTree({ callFrame: { functionName: 'first', url, ...position(code, 'function first') }, selfSize: 8, children: [] });
    expect(tree.callFrame.url).to.equal(path.join(dir, 'packages', 'sidecar', 'src', 'first.ts'));
    expect(tree.selfSize).to.equal(8);
  });
});
