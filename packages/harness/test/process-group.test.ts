import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { ProcessGroup } from '../src/process-group';
import { waitFor } from '../src/wait-for';

const FIXTURES = path.join(__dirname, 'fixtures');
const child = path.join(FIXTURES, 'ready-child.js');

/** Alive and not a zombie (a container's PID 1 may not reap orphans promptly). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

describe('ProcessGroup', () => {
  const group = new ProcessGroup();
  afterEach(() => group.stopAll(1_000));

  it('starts a script with the Node.js flags its #!/usr/bin/env -S node line names, as executing it would', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-shebang-'));
    try {
      const script = path.join(dir, 'flags.js');
      fs.writeFileSync(script, "#!/usr/bin/env -S node --max-semi-space-size=2 --stack-size=900\nconsole.log(JSON.stringify({ msg: 'flags', execArgv: process.execArgv }));\n");
      const proc = group.spawn({ name: 'flags', script });
      const line = await group.waitForLog(proc, (e) => e['msg'] === 'flags', 5_000);
      expect(line['execArgv']).to.deep.equal(['--max-semi-space-size=2', '--stack-size=900']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resolves waitForLog with the parsed JSON line and keeps the output', async () => {
    const proc = group.spawn({ name: 'ready', script: child });
    const ready = await group.waitForLog(proc, (e) => e['msg'] === 'ready', 5_000);
    expect(ready).to.include({ msg: 'ready', port: 4242 });
    expect(proc.lines().map((l) => l.text)).to.include('plain text on stdout');
    // A line that already arrived is found too.
    expect(await group.waitForLog(proc, (e) => e['msg'] === 'starting', 100)).to.have.property('pid', proc.pid);
  });

  it('rejects with the last log lines when the process exits first', async () => {
    const proc = group.spawn({ name: 'early', script: child, args: ['--exit-early'] });
    const err = await group.waitForLog(proc, (e) => e['msg'] === 'ready', 5_000).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/early ended \(exit code 3\) before it was ready/);
    expect(err?.message).to.include('"msg":"fatal"');
  });

  it('rejects on timeout', async () => {
    const proc = group.spawn({ name: 'slow', script: child });
    const err = await group.waitForLog(proc, (e) => e['msg'] === 'never', 300).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/timed out after 300ms waiting for slow/);
  });

  it('stops with SIGTERM, and falls back to SIGKILL after the grace period', async () => {
    const polite = group.spawn({ name: 'polite', script: child });
    const stubborn = group.spawn({ name: 'stubborn', script: child, args: ['--ignore-term'] });
    await Promise.all([group.waitForLog(polite, (e) => e['msg'] === 'ready'), group.waitForLog(stubborn, (e) => e['msg'] === 'ready')]);
    expect(await group.stop(polite, 'SIGTERM', 2_000)).to.deep.equal({ code: 0, signal: null });
    expect(await group.stop(stubborn, 'SIGTERM', 300)).to.deep.equal({ code: null, signal: 'SIGKILL' });
    expect(stubborn.lines().map((l) => l.json?.['msg'])).to.include('ignoring SIGTERM');
  });

  it('writes every line to the log file when asked', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-pg-'));
    try {
      const logFile = path.join(dir, 'out.log');
      const proc = group.spawn({ name: 'logged', script: child, logFile });
      await group.waitForLog(proc, (e) => e['msg'] === 'ready');
      await group.stop(proc);
      const text = fs.readFileSync(logFile, 'utf8');
      expect(text).to.include('stdout plain text on stdout');
      expect(text).to.match(/stderr \{"msg":"ready"/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const how of ['exit', 'throw', 'SIGTERM', 'SIGINT'] as const) {
    it(`kills its children when the parent ends (${how})`, async () => {
      const args = how === 'exit' || how === 'throw' ? [how] : ['wait'];
      const parent = group.spawn({ name: `parent-${how}`, script: path.join(FIXTURES, 'parent.js'), args });
      const announced = await group.waitForLog(parent, (e) => e['msg'] === 'child', 5_000);
      const pid = announced['pid'] as number;
      expect(isAlive(pid)).to.equal(true);
      if (how === 'SIGTERM' || how === 'SIGINT') parent.kill(how);
      const exit = await parent.exited;
      if (how === 'SIGTERM' || how === 'SIGINT') expect(exit.signal).to.equal(how);
      await waitFor(`child ${pid} to exit`, () => !isAlive(pid), 3_000);
    });
  }
});
