import type { RegistryStatus } from '@weft/api';
import type { AdminApi } from '../admin-client';
import { CliError } from '../errors';
import { shortDuration } from '../output/format';
import type { CheckResult } from './check-result';
import { probeHttp } from './http-ready';

const GROUP = 'control plane';
/** Leaf certificates are backdated 60 s (pki CLOCK_SKEW_MS): more than that and fresh ones are not yet valid. */
const SKEW_FAIL_MS = 60_000;
const SKEW_WARN_MS = 5_000;

/** Where the HTTP server answers: its bound address, with a wildcard host replaced by the gRPC endpoint's host. */
export function readyUrl(httpAddress: string, endpoint: string): string {
  const split = (hp: string): [string, string] => {
    const i = hp.lastIndexOf(':');
    return [hp.slice(0, i), hp.slice(i + 1)];
  };
  const [host, port] = split(httpAddress);
  const [endpointHost] = split(endpoint);
  const wildcard = host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
  return `http://${wildcard ? endpointHost : host}:${port}/ready`;
}

/**
 * Reachable (an admin call answers, with the operator credential), ready (its HTTP /ready, as a
 * load balancer or kubelet sees it), and the clock of this host against the control plane's.
 * Returns `reachable: false` when nothing else can be checked.
 */
export async function checkControlPlane(api: AdminApi, endpoint: string, now: () => number): Promise<{ results: CheckResult[]; reachable: boolean }> {
  const sentAt = now();
  let status;
  try {
    status = await api.status();
  } catch (err) {
    if (err instanceof CliError && err.code === 'WEFT_ERR_UNIMPLEMENTED') {
      const version = await api.version().catch(() => ({ version: 'unknown' }));
      return { reachable: true, results: [
        { group: GROUP, status: 'ok', message: `reachable at ${endpoint} (weft ${version.version})` },
        { group: GROUP, status: 'warn', message: 'readiness and clock not checked: this control plane is older than weftctl and does not report them', hint: 'upgrade the control plane to the release of weftctl (weftctl version)' },
      ] };
    }
    const message = err instanceof Error ? err.message : String(err);
    return { reachable: false, results: [{ group: GROUP, status: 'fail', message: `not reachable at ${endpoint}`, hint: message }] };
  }
  const receivedAt = now();
  const results: CheckResult[] = [{ group: GROUP, status: 'ok', message: `reachable at ${endpoint} (weft ${status.version})` }];

  if (!status.httpAddress) {
    results.push({ group: GROUP, status: 'warn', message: 'ready: the control plane did not report its HTTP address', hint: 'it is still starting: run weftctl check again' });
  } else {
    const url = readyUrl(status.httpAddress, endpoint);
    const probe = await probeHttp(url);
    if ('error' in probe) {
      results.push({ group: GROUP, status: 'fail', message: `ready: cannot ask ${url}: ${probe.error}`, hint: `the control plane serves /ready on --http ${status.httpAddress}: is that address reachable from this host (firewall, bind address)?` });
    } else if (probe.status === 200) {
      results.push({ group: GROUP, status: 'ok', message: `ready (${url} answered ${probe.status})` });
    } else {
      results.push({ group: GROUP, status: 'fail', message: `not ready: ${url} answered ${probe.status} ${probe.body}`, hint: 'it is starting or shutting down: check its log (the "ready" line) and run weftctl check again' });
    }
  }

  if (status.registry) results.push(registryCheck(status.registry, receivedAt));

  // The answer was made between sentAt and receivedAt: the skew is known to within half the round trip.
  const skew = status.nowMs - (sentAt + receivedAt) / 2;
  const within = `±${shortDuration((receivedAt - sentAt) / 2)}`;
  const what = `clock: this host is ${shortDuration(Math.abs(skew))} ${skew > 0 ? 'behind' : 'ahead of'} the control plane (${within}); proxies do not report their clock, so only this host is compared`;
  if (Math.abs(skew) > SKEW_FAIL_MS) {
    results.push({ group: GROUP, status: 'fail', message: what, hint: `certificates are backdated by ${SKEW_FAIL_MS / 1000}s only: hosts this far apart see fresh certificates as not yet valid. Synchronize clocks (NTP)` });
  } else if (Math.abs(skew) > SKEW_WARN_MS) {
    results.push({ group: GROUP, status: 'warn', message: what, hint: 'synchronize clocks (NTP) before the skew reaches 60s' });
  } else {
    results.push({ group: GROUP, status: 'ok', message: what });
  }
  return { results, reachable: true };
}

/** An external registry (--registry consul): ✓ while every read succeeds, ✗ while it serves what it last read. */
function registryCheck(r: RegistryStatus, now: number): CheckResult {
  const where = `registry ${r.source} at ${r.address}`;
  if (r.up) return { group: GROUP, status: 'ok', message: `${where} answers (${r.meshInstances} mesh instance${r.meshInstances === 1 ? '' : 's'}, ${r.otherInstances} outside the mesh)` };
  const since = r.lastSuccessMs > 0 ? `last good read ${shortDuration(now - r.lastSuccessMs)} ago` : 'never read';
  return {
    group: GROUP, status: 'fail',
    message: `${where} is down (${since}; ${r.errors} failed read${r.errors === 1 ? '' : 's'}): ${r.lastError}`,
    hint: `the control plane keeps serving the instances it last read; check that Consul answers at ${r.address} and that the token (--consul-token-file) is valid`,
  };
}
