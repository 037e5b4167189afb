import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../src/package-root';

describe('packageRoot', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'weft-package-root-'));
    writeFileSync(path.join(dir, 'package.json'), '{}');
    mkdirSync(path.join(dir, 'dist', 'src', 'capture'), { recursive: true });
    mkdirSync(path.join(dir, 'dist', 'bundle'), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the same package from tsc output and from a bundle, however deep', () => {
    expect(packageRoot(path.join(dir, 'dist', 'src', 'capture'))).to.equal(dir);
    expect(packageRoot(path.join(dir, 'dist', 'bundle'))).to.equal(dir);
    expect(packageRoot(dir)).to.equal(dir);
  });

  it('stops at the nearest package.json', () => {
    writeFileSync(path.join(dir, 'dist', 'package.json'), '{}');
    expect(packageRoot(path.join(dir, 'dist', 'bundle'))).to.equal(path.join(dir, 'dist'));
  });

  it('says where it looked when there is none', () => {
    expect(() => packageRoot(path.parse(tmpdir()).root)).to.throw(/no package.json at or above/);
  });
});
