import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Mesh } from '../src/mesh';

describe('Mesh: a sidecar from another build', () => {
  let dir: string;
  let mesh: Mesh;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-harness-script-'));
    mesh = new Mesh();
  });
  afterEach(async () => {
    await mesh.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // What bench:floor --against relies on: the given program runs, with the sidecar's command line,
  // instead of this checkout's bin/weft-sidecar.js.
  it('runs the given program with the sidecar command line', async () => {
    const script = path.join(dir, 'other-build-sidecar.js');
    fs.writeFileSync(script, "process.stdout.write(JSON.stringify({ msg: 'other build', argv: process.argv.slice(2) }) + '\\n');\n");
    const result = await mesh.runSidecarToExit({ service: 'web', appPort: 8080, token: 'not-used', controlPlane: '127.0.0.1:1', script });
    expect(result.code).to.equal(0);
    const line = JSON.parse(result.stdout.trim()) as { msg: string; argv: string[] };
    expect(line.msg).to.equal('other build');
    expect(line.argv).to.include('--service');
    expect(line.argv).to.include('web');
  });

  it("runs this checkout's sidecar when no program is given", async () => {
    const result = await mesh.runSidecarToExit({ service: 'web', appPort: 8080, token: 'not-used', controlPlane: '127.0.0.1:1', extraArgs: ['--no-such-flag'] });
    expect(result.code).to.not.equal(0);
    expect(result.stdout + result.stderr).to.not.include('other build');
    expect(result.stdout + result.stderr).to.include('--no-such-flag');
  });
});
