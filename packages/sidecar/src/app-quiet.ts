import { setTimeout as sleep } from 'node:timers/promises';
import type { ProxyListener } from './listener';

/** How often a draining sidecar looks at its app-facing listeners. */
const POLL_MS = 100;

/**
 * Resolves once the app has stopped calling out: nothing in flight on `listeners` and no new
 * request or connection for `quietMs`; or at `deadline` (epoch ms), whichever comes first.
 *
 * Why: on SIGTERM the app is usually being stopped too (a pod's containers all get SIGTERM at
 * once on clusters without native sidecars, a VM's units in parallel), and an app still
 * finishing its work makes outbound calls. Closing the outbound port at once would fail those
 * calls; keeping it until the app has gone quiet lets termination cut nothing (Istio's
 * EXIT_ON_ZERO_ACTIVE_CONNECTIONS, Linkerd's shutdown grace). Counting requests rather than
 * sampling a timestamp per request keeps the request path at one integer increment.
 */
export async function untilQuiet(listeners: readonly ProxyListener[], quietMs: number, deadline: number): Promise<'quiet' | 'deadline'> {
  const served = (): number => listeners.reduce((n, l) => n + l.served(), 0);
  const busy = (): boolean => listeners.some((l) => l.inFlight() > 0);
  let seen = served();
  let quietSince = Date.now();
  for (;;) {
    const now = Date.now();
    if (now >= deadline) return 'deadline';
    const count = served();
    if (busy() || count !== seen) {
      seen = count;
      quietSince = now;
    } else if (now - quietSince >= quietMs) {
      return 'quiet';
    }
    await sleep(Math.min(POLL_MS, deadline - now));
  }
}
