import type { ChildProcess } from 'node:child_process';

/**
 * Every child the harness starts, until it exits. When this process ends (normal exit, uncaught
 * error, Ctrl-C, SIGTERM from a CI runner) they are all SIGKILLed, so a failing test or demo never
 * leaves a control plane or sidecar behind holding ports. (A SIGKILL of this process cannot be
 * intercepted; nothing can clean up after that.)
 */
const live = new Set<ChildProcess>();
let installed = false;

function killAll(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      killAll();
      // Listening for a signal cancels Node's default (exit). If no one else listens, restore
      // the default and re-raise, so this process still dies of the signal as it would have.
      // (Counted here, before any `once` listener of the program has been removed: see below.)
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, handler);
        process.kill(process.pid, signal);
      }
    };
    // First in line: children die before anything else runs, and the program's own handlers
    // (say, a demo that cleans up and exits) are still counted above.
    process.prependListener(signal, handler);
  }
}

export function trackChild(child: ChildProcess): void {
  install();
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** How many tracked children are still running (for tests). */
export function liveChildCount(): number {
  return live.size;
}
