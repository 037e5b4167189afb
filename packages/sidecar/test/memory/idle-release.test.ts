import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { recordingLogger } from '@weft/harness';
import { IdleMemoryRelease, type ActivitySource } from '../../src/memory/idle-release';
import { loadNativeMemory, nativeMemory } from '../../src/memory/native-memory';
import { releaseMemory, trimMemory, type MemoryReleased, type MemoryTrimmed } from '../../src/memory/release-memory';

/** A listener as the watcher sees it: counts a test moves by hand. */
function listener(): ActivitySource & { served_: number; inFlight_: number } {
  return { served_: 0, inFlight_: 0, served() { return this.served_; }, inFlight() { return this.inFlight_; } };
}

const RELEASED: MemoryReleased = { collection: 'full', trimmed: false, collectMs: 2, trimMs: 0, rssBefore: 80e6, rssCollected: 72e6, rssAfter: 70e6, anonBefore: 40e6, anonAfter: 30e6, heapBefore: 24e6, heapAfter: 15e6 };

describe('idle memory release', function () {
  this.timeout(10_000);
  const IDLE_MS = 200;
  let watcher: IdleMemoryRelease | undefined;
  afterEach(() => watcher?.stop());

  function watch(listeners: ActivitySource[], onRelease: () => void = () => undefined): IdleMemoryRelease {
    watcher = new IdleMemoryRelease({ listeners: () => listeners, idleMs: IDLE_MS, logger: recordingLogger(), release: () => (onRelease(), RELEASED) });
    watcher.start();
    return watcher;
  }

  it('releases once after start-up goes idle, and not again until traffic has come and gone', async () => {
    const inbound = listener();
    const w = watch([inbound, listener()]);
    await sleep(IDLE_MS * 3);
    expect(w.state().releases, 'after start-up').to.equal(1);
    await sleep(IDLE_MS * 3);
    expect(w.state().releases, 'still idle: not again').to.equal(1);
    inbound.served_ += 5;
    await sleep(IDLE_MS * 3);
    expect(w.state()).to.deep.include({ releases: 2, rssReleasedBytes: 20e6 });
    expect(w.state().releaseSeconds).to.be.closeTo(0.004, 1e-9);
  });

  it('never releases while a request is in flight or traffic keeps arriving', async () => {
    const outbound = listener();
    const inFlightAtRelease: number[] = [];
    const w = watch([outbound], () => inFlightAtRelease.push(outbound.inFlight()));
    outbound.inFlight_ = 1; // one long request (a stream) for three idle periods
    await sleep(IDLE_MS * 3);
    expect(w.state().releases).to.equal(0);
    // Steady traffic: something served at every tick.
    const traffic = setInterval(() => (outbound.served_ += 1), 20);
    outbound.inFlight_ = 0;
    await sleep(IDLE_MS * 3);
    clearInterval(traffic);
    expect(w.state().releases).to.equal(0);
    await sleep(IDLE_MS * 3);
    expect(w.state().releases).to.equal(1);
    expect(inFlightAtRelease).to.deep.equal([0]);
  });

  it('releases while an open tunnel carries nothing, and not while it moves bytes', async () => {
    const tunnels = { open: 1, bytes: 100 };
    const inbound = { ...listener(), inFlight_: 1, tunnels: () => tunnels };
    const w = watch([inbound]);
    await sleep(IDLE_MS * 3);
    expect(w.state().releases, 'a quiet TCP connection (a pooled database connection) does not hold it off').to.equal(1);
    const moving = setInterval(() => (tunnels.bytes += 50), 20);
    await sleep(IDLE_MS * 3);
    expect(w.state().releases, 'bytes through the tunnel are traffic').to.equal(1);
    clearInterval(moving);
    await sleep(IDLE_MS * 3);
    expect(w.state().releases, 'once the tunnel is quiet again').to.equal(2);
    inbound.inFlight_ = 2; // a request besides the tunnel
    inbound.served_ += 1;
    await sleep(IDLE_MS * 3);
    expect(w.state().releases, 'a request in flight still holds it off').to.equal(2);
  });

  it('trims malloc alone a short quiet after a burst, once, then does the full release', async () => {
    const inbound = listener();
    const events: string[] = [];
    const trimmed: MemoryTrimmed = { trimMs: 0.5, rssBefore: 80e6, rssAfter: 74e6 };
    watcher = new IdleMemoryRelease({
      listeners: () => [inbound], idleMs: IDLE_MS * 4, trimAfterMs: IDLE_MS, logger: recordingLogger(),
      release: () => (events.push('release'), RELEASED), trim: () => (events.push('trim'), trimmed),
    });
    watcher.start();
    await sleep(IDLE_MS * 2.5);
    expect(events, 'the trim comes first, alone').to.deep.equal(['trim']);
    await sleep(IDLE_MS * 4);
    expect(events, 'then the full release, and nothing more while quiet').to.deep.equal(['trim', 'release']);
    inbound.inFlight_ = 1; // a burst: one request in flight for a while
    inbound.served_ += 3;
    await sleep(IDLE_MS * 2.5);
    expect(events, 'never while a request is in flight').to.deep.equal(['trim', 'release']);
    inbound.inFlight_ = 0;
    await sleep(IDLE_MS * 2.5);
    expect(events, 'after the burst: a trim again').to.deep.equal(['trim', 'release', 'trim']);
    expect(watcher.state()).to.deep.include({ trims: 2, rssTrimmedBytes: 12e6, releases: 1 });
    expect(watcher.state().trimSeconds).to.be.closeTo(0.001, 1e-9);
  });

  it('counts no trim where malloc cannot be trimmed (no addon)', async () => {
    watcher = new IdleMemoryRelease({ listeners: () => [listener()], idleMs: IDLE_MS * 4, trimAfterMs: IDLE_MS, logger: recordingLogger(), release: () => RELEASED, trim: () => undefined });
    watcher.start();
    await sleep(IDLE_MS * 2.5);
    expect(watcher.state()).to.deep.include({ trims: 0, rssTrimmedBytes: 0, releases: 0 });
  });

  it('is off with an idle time of 0', async () => {
    watcher = new IdleMemoryRelease({ listeners: () => [], idleMs: 0, logger: recordingLogger(), release: () => RELEASED });
    watcher.start();
    await sleep(300);
    expect(watcher.state().releases).to.equal(0);
  });
});

describe('giving memory back (release-memory.ts with the addon built at npm ci)', () => {
  it('runs V8\'s last-resort collection and malloc_trim, and reports the process\'s memory before and after', () => {
    const native = nativeMemory();
    expect(native.available, native.reason).to.equal(true);
    const held: Buffer[] = [];
    for (let i = 0; i < 2000; i++) held.push(Buffer.alloc(4096, i)); // malloc'd, freed below
    held.length = 0;
    const r = releaseMemory(native);
    expect(r).to.include({ collection: 'last-resort', trimmed: true });
    expect(r.rssBefore).to.be.greaterThan(0);
    expect(r.rssAfter).to.be.greaterThan(0);
    expect(r.heapAfter).to.be.greaterThan(0);
  });

  it('trims malloc alone, and says what it gave back', () => {
    const native = nativeMemory();
    if (!native.available) throw new Error(`the addon should be built by npm ci: ${native.reason}`);
    // Free chunks pinned between live ones: what a burst of bodies leaves in the arena.
    const kept: Buffer[] = [];
    const dropped: Buffer[] = [];
    for (let i = 0; i < 2000; i++) (i % 2 === 0 ? kept : dropped).push(Buffer.allocUnsafeSlow(16 * 1024).fill(i));
    dropped.length = 0;
    const t = trimMemory(native);
    expect(t).to.not.equal(undefined);
    expect(t?.trimMs).to.be.at.least(0);
    expect(t?.rssBefore).to.be.greaterThan(0);
    expect(t?.rssAfter).to.be.greaterThan(0);
    expect(kept.every((b, i) => b[0] === ((i * 2) & 0xff)), 'what is live stays intact').to.equal(true);
    expect(trimMemory(loadNativeMemory('/nonexistent/weft_memory.node')), 'no addon: no trim').to.equal(undefined);
  });

  it('without the addon: an ordinary full collection, no trim, and a reason that says how to build it', () => {
    const native = loadNativeMemory('/nonexistent/weft_memory.node');
    expect(native.available).to.equal(false);
    expect(native.reason).to.match(/not built.*npm ci/);
    const r = releaseMemory(native);
    expect(r).to.include({ collection: 'full', trimmed: false });
    expect(r.rssAfter).to.be.greaterThan(0);
  });
});
