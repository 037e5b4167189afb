import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import { Deadlines, type DeadlineEntry, type DeadlineList } from '../../src/layers/deadlines';

/** A deadline entry that notes when it expired. */
class Entry implements DeadlineEntry {
  readonly at: number;
  firedAt: number | undefined;
  deadlinePrev: DeadlineEntry | undefined;
  deadlineNext: DeadlineEntry | undefined;
  deadlineList: DeadlineList | undefined;

  constructor(
    readonly ms: number,
    readonly fired: Entry[],
    readonly onExpire?: () => void,
  ) {
    this.at = performance.now() + ms;
  }

  expire(): void {
    this.firedAt = performance.now();
    this.fired.push(this);
    this.onExpire?.();
  }
}

const until = (check: () => boolean, within = 10_000): Promise<void> =>
  new Promise((resolve, reject) => {
    const giveUpAt = Date.now() + within;
    const poll = (): void => {
      if (check()) resolve();
      else if (Date.now() > giveUpAt) reject(new Error('condition not reached in time'));
      else setTimeout(poll, 5);
    };
    poll();
  });

const inOrder = (entries: readonly Entry[]): boolean => entries.every((e, i) => i === 0 || (entries[i - 1] as Entry).at <= e.at);

describe('layers/deadlines', () => {
  it('fires deadlines of different durations, added interleaved, in deadline order and not before their time', async () => {
    const d = new Deadlines();
    const fired: Entry[] = [];
    const all: Entry[] = [];
    for (let i = 0; i < 5; i++) {
      for (const ms of [120, 30, 80, 10]) {
        const e = new Entry(ms, fired);
        all.push(e);
        d.add(e, ms);
      }
      await new Promise((r) => setTimeout(r, 3));
    }
    await until(() => fired.length === all.length);
    expect(inOrder(fired)).to.equal(true);
    for (const e of fired) expect(e.firedAt).to.be.at.least(e.at);
    expect(d.pending).to.equal(0);
  });

  it('arms for an earlier deadline added after a later one', async () => {
    const d = new Deadlines();
    const fired: Entry[] = [];
    const late = new Entry(5_000, fired);
    d.add(late, 5_000);
    const early = new Entry(20, fired);
    d.add(early, 20);
    await until(() => fired.length === 1);
    expect(fired).to.deep.equal([early]);
    d.remove(late);
  });

  it("keeps a caller's deadlines of fractional durations in order within their list", async () => {
    const d = new Deadlines();
    const fired: Entry[] = [];
    const later = new Entry(20.9, fired);
    const sooner = new Entry(20.1, fired); // added after, expires before: both in the 21 ms list
    d.add(later, later.ms);
    d.add(sooner, sooner.ms);
    await until(() => fired.length === 2);
    expect(fired).to.deep.equal([sooner, later]);
  });

  it('never fires a removed entry, wherever it is in its list', async () => {
    const d = new Deadlines();
    const fired: Entry[] = [];
    const entries = [10, 10, 10, 10, 25].map((ms) => new Entry(ms, fired));
    for (const e of entries) d.add(e, e.ms);
    const [head, middle, , tail, other] = entries as [Entry, Entry, Entry, Entry, Entry];
    for (const e of [head, middle, tail, other]) d.remove(e);
    d.remove(head); // removing twice is harmless
    await until(() => fired.length === 1);
    await new Promise((r) => setTimeout(r, 60));
    expect(fired).to.deep.equal([entries[2]]);
    expect(d.pending).to.equal(0);
  });

  it('fires an entry added while others expire', async () => {
    const d = new Deadlines();
    const fired: Entry[] = [];
    let added: Entry | undefined;
    const first = new Entry(5, fired, () => {
      added = new Entry(5, fired);
      d.add(added, 5);
    });
    d.add(first, 5);
    await until(() => fired.length === 2);
    expect(fired).to.deep.equal([first, added]);
  });

  it('handles thousands of entries, half of them removed', async () => {
    const d = new Deadlines();
    const fired: Entry[] = [];
    const kept = new Set<Entry>();
    for (let i = 0; i < 10_000; i++) {
      const ms = [15, 40, 70, 100][i % 4] as number;
      const e = new Entry(ms, fired);
      d.add(e, ms);
      if (i % 2 === 0) kept.add(e);
      else d.remove(e);
    }
    expect(d.pending).to.equal(5_000);
    await until(() => fired.length >= kept.size);
    await new Promise((r) => setTimeout(r, 30));
    expect(fired.length).to.equal(kept.size);
    expect(fired.every((e) => kept.has(e))).to.equal(true);
    expect(inOrder(fired)).to.equal(true);
  });

  it('holds the process only while something is pending', async () => {
    const d = new Deadlines();
    const fired: Entry[] = [];
    const a = new Entry(60_000, fired);
    d.add(a, a.ms);
    expect(d.holdsProcess).to.equal(true);
    d.remove(a);
    expect(d.holdsProcess).to.equal(false);
    const b = new Entry(60_000, fired);
    d.add(b, b.ms);
    expect(d.holdsProcess).to.equal(true);
    d.remove(b);
    expect(d.holdsProcess).to.equal(false);
  });

  it('lets a process exit once its requests are done, however long their route timeout', async () => {
    // A real process: a route timeout of ten minutes, one request answered, nothing else to do.
    const timeoutModule = require.resolve('../../src/layers/timeout');
    const script = `
      const { timeout } = require(${JSON.stringify(timeoutModule)});
      const svc = timeout({ timeoutMs: 600000, name: 'r/0', destination: { key: 'd' } }, async () => ({ status: 200, headers: {}, body: null }));
      svc({ signal: new AbortController().signal, record: { phase: 'queue' } }).then((res) => console.log(res.status));
    `;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', script], { timeout: 20_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    expect(out.trim()).to.equal('200'); // and it exited: execFile kills it and fails after 20 s
  });
});
