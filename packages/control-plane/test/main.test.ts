import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { expect } from 'chai';
import { makeTempDir, removeDir } from './helpers/fixtures';

const BIN = path.resolve(__dirname, '../../bin/weft-control-plane.js');

function run(args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

describe('weft-control-plane binary', () => {
  let dir: string | undefined;
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    child = undefined;
    await removeDir(dir);
    dir = undefined;
  });

  it('prints help and exits 0', async () => {
    const p = run(['--help']);
    expect(await p.exit).to.equal(0);
    expect(p.stdout()).to.contain('--data-dir').and.contain('--advertise');
  });

  it('exits 2 with a clear message on a bad flag', async () => {
    const p = run(['--data-dir', '/tmp/x', '--listen', 'nope']);
    expect(await p.exit).to.equal(2);
    expect(p.stderr()).to.contain('--listen "nope" is not HOST:PORT');
  });

  it('logs ready with the bound ports, and exits 0 on SIGTERM', async () => {
    dir = await makeTempDir();
    const p = run(['--data-dir', path.join(dir, 'cp'), '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0']);
    child = p.child;
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line: ${p.stderr()}`)), 15_000);
      p.child.stderr?.on('data', () => {
        for (const line of p.stderr().split('\n')) {
          if (!line.startsWith('{')) continue;
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (parsed['msg'] === 'ready') {
            clearTimeout(timer);
            resolve(parsed);
          }
        }
      });
    });
    expect(ready['grpcPort']).to.be.a('number').greaterThan(0);
    expect(ready['httpPort']).to.be.a('number').greaterThan(0);
    expect(ready['dataDir']).to.equal(path.join(dir, 'cp'));
    p.child.kill('SIGTERM');
    expect(await p.exit).to.equal(0);
    expect(p.stderr()).to.not.contain('PRIVATE KEY');
  });
});
