import type { CaCertificate, CaStatus } from '@weft/api';
import { relativeTime } from '../output/format';
import type { CheckResult } from './check-result';

const GROUP = 'CA';
/** A root or intermediate closer than this to expiry is a warning: time to rotate it. */
export const EXPIRY_WARNING_MS = 30 * 86_400_000;

function validity(c: CaCertificate, what: string, nowMs: number, hint: string): CheckResult {
  const until = `${new Date(c.notAfterMs).toISOString().slice(0, 10)} (${relativeTime(c.notAfterMs, nowMs)})`;
  const name = `${what} ${c.fingerprint.slice(0, 12)} (${c.subject})`;
  if (c.notAfterMs <= nowMs) return { group: GROUP, status: 'fail', message: `${name} expired ${until}`, hint };
  if (c.notBeforeMs > nowMs) return { group: GROUP, status: 'fail', message: `${name} is not valid before ${new Date(c.notBeforeMs).toISOString()}`, hint: 'check the clocks of this host and of the control plane' };
  if (c.notAfterMs - nowMs < EXPIRY_WARNING_MS) return { group: GROUP, status: 'warn', message: `${name} expires ${until}`, hint };
  return { group: GROUP, status: 'ok', message: `${name} valid until ${until}` };
}

/** Every root of the trust bundle and the signing intermediate (if any): valid, and not within 30 days of expiry. */
export function checkCa(status: CaStatus, nowMs: number): CheckResult[] {
  const results = status.roots.map((root) =>
    validity(root, `root${root.role && root.role !== 'active' ? ` (${root.role})` : ''}`, nowMs, 'rotate the root without downtime: weftctl ca rotate-root --wait'),
  );
  if (status.signer) {
    results.push(validity(status.signer, 'signing intermediate', nowMs, 'replace the intermediate the control plane was given (--ca-cert/--ca-key) with a renewed one and restart it'));
  }
  if (results.length === 0) results.push({ group: GROUP, status: 'fail', message: 'the control plane reports no root', hint: 'check its data directory and log' });
  if (status.phase !== 'idle') {
    results.push({ group: GROUP, status: 'warn', message: `a root rotation is in phase ${status.phase}${status.waitingFor ? `, waiting for ${status.waitingFor}` : ''}`, hint: 'it advances on its own: follow it with weftctl ca status' });
  }
  return results;
}
