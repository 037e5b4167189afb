/**
 * A worker process of `npm run bench:control-plane`: hosts a share of the simulated sidecars and
 * answers the parent's requests (messages.ts) over IPC. Exits when the parent goes away.
 */
import { spiffeId } from '@weft/api';
import { createCsr, generateKeyPair } from '@weft/pki/workload';
import { fetchTrustAnchor, parseHostPort } from '@weft/sidecar';
import type { Activity, InitParams, Reply, Request, SignResult } from './messages';
import { nowMs, SimSidecar } from './sim-sidecar';

let sims: SimSidecar[] = [];
let prepared: { trustDomain: string; rootPem: string; csrs: { key: string; csr: string }[] } | undefined;
let signConcurrency = 32;
let lastAckAt = 0;
let ackCount = 0;
/** Why streams ended, and how often (a stream lost on purpose, by close(), is not counted). */
const lost = new Map<string, number>();
/** Called on every ACK: whoever waits for the fleet to catch up. */
let ackWaiters: (() => void)[] = [];

function onAck(): void {
  lastAckAt = nowMs();
  ackCount += 1;
  for (const w of ackWaiters) w();
}

async function init(params: InitParams): Promise<null> {
  const address = parseHostPort(params.target);
  if (!address) throw new Error(`not HOST:PORT: ${params.target}`);
  // First contact, as the sidecar makes it: the root pinned by the token's fingerprint (once per worker).
  const trust = await fetchTrustAnchor(address, params.rootFingerprint);
  sims = params.sims.map((spec) => new SimSidecar(spec, params.target, onAck, (reason) => void lost.set(reason, (lost.get(reason) ?? 0) + 1)));
  // Each simulated sidecar makes its own ECDSA P-256 key, as the sidecar does (well under a
  // millisecond each, before the signing burst is timed).
  const csrs = sims.map((sim) => {
    const key = generateKeyPair().privateKeyPem;
    return { key, csr: createCsr(spiffeId({ trustDomain: trust.trustDomain, namespace: sim.spec.namespace, service: sim.spec.service }), key) };
  });
  prepared = { trustDomain: trust.trustDomain, rootPem: trust.rootPem, csrs };
  signConcurrency = params.signConcurrency;
  return null;
}


/** Every sidecar redeems its token at once, `signConcurrency` calls in flight. */
async function sign(): Promise<SignResult> {
  const p = prepared;
  if (!p) throw new Error('init first');
  const failures: string[] = [];
  const firstSentAt = nowMs();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < sims.length) {
      const i = next++;
      const { key, csr } = p.csrs[i] as { key: string; csr: string };
      await (sims[i] as SimSidecar).sign(p.trustDomain, p.rootPem, key, csr).catch((err: unknown) => failures.push(err instanceof Error ? err.message : String(err)));
    }
  };
  await Promise.all(Array.from({ length: signConcurrency }, lane));
  return { firstSentAt, lastDoneAt: nowMs(), failures: failures.slice(0, 5) };
}

/** Resolves once `done()` holds (checked on every ACK), or with whatever is there after `timeoutMs`. */
function until(done: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (!done()) return;
      finish();
    };
    const finish = (): void => {
      clearTimeout(timer);
      ackWaiters = ackWaiters.filter((w) => w !== check);
      resolve();
    };
    const timer = setTimeout(finish, timeoutMs);
    ackWaiters.push(check);
    check();
  });
}

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case 'init':
      return init(req.params);
    case 'sign':
      return sign();
    case 'connect': {
      // Spread over time at the fleet's join rate (this worker's share of it), as a fleet scales up.
      sims.forEach((sim, i) => setTimeout(() => sim.connect(), (i * 1000) / req.perSecond));
      await until(() => sims.every((s) => s.acks.length > 0), 120_000);
      return sims.map((s) => s.acks[0]?.[1] ?? NaN);
    }
    case 'activity':
      return { lastAckAt, acks: ackCount, connected: sims.filter((s) => s.connected).length, snapshotBytes: Math.max(0, ...sims.map((s) => s.snapshotBytes)), bytesReceived: sims.reduce((sum, s) => sum + s.bytesReceived, 0), lost: Object.fromEntries(lost) } satisfies Activity;
    case 'await-revision':
      await until(() => sims.every((s) => !Number.isNaN(s.ackedRevisionAt(req.revision))), req.timeoutMs);
      return sims.map((s) => s.ackedRevisionAt(req.revision));
    case 'mark-reconnect':
      for (const sim of sims) sim.markReconnect();
      return null;
    case 'await-reconnect':
      await until(() => sims.every((s) => !Number.isNaN(s.reconnectedAt)), req.timeoutMs);
      return sims.map((s) => s.reconnectedAt);
    case 'stop':
      for (const sim of sims) sim.close();
      setTimeout(() => process.exit(0), 50);
      return null;
  }
}

process.on('message', (req: Request) => {
  handle(req).then(
    (value) => process.send?.({ id: req.id, ok: true, value } satisfies Reply),
    (err: unknown) => process.send?.({ id: req.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies Reply),
  );
});
// The parent is gone (finished, crashed, or Ctrl-C): nothing is left to report to.
process.on('disconnect', () => process.exit(0));
