import { WeftError, type Logger } from '@weft/api';
import type { Metrics } from '../metrics/metrics';
import { RefusalLog, type RefusalLogLimits } from './refusal-log';

/** Any gRPC server call: what a refusal is told about its caller. */
export interface CallWithPeer {
  getPeer(): string;
}

/** Who was refused, as far as the call says: never a secret. */
export interface RefusedCaller {
  readonly identity?: string | undefined;
  readonly tokenId?: string | undefined;
}

/**
 * The audit trail of refused calls: every refusal of Identity, Discovery and Admin is counted in
 * `weft_cp_refusals_total{rpc,reason}` and logged (rate limited per rpc, reason and source).
 */
export class Refusals {
  readonly #metrics: Metrics;
  readonly #log: RefusalLog;

  constructor(log: Logger, metrics: Metrics, limits: Partial<RefusalLogLimits> = {}) {
    this.#metrics = metrics;
    this.#log = new RefusalLog(log, limits);
  }

  /** Records `err` as the refusal of `rpc` to this caller; errors that are not refusals (bugs) are left to the caller. */
  record(call: CallWithPeer, rpc: string, err: unknown, caller: RefusedCaller = {}): void {
    if (!(err instanceof WeftError)) return;
    const peer = peerAddress(call);
    this.#metrics.refused(rpc, err.code);
    this.#log.record({ rpc, reason: err.code, source: sourceOf(peer), peer, identity: caller.identity, tokenId: caller.tokenId, detail: err.message });
  }

  close(): void {
    this.#log.close();
  }
}

function peerAddress(call: CallWithPeer): string {
  try {
    return call.getPeer();
  } catch {
    return 'unknown';
  }
}

/** The address without its port: `127.0.0.1:5123` -> `127.0.0.1`, `::ffff:10.0.0.1:80` -> `10.0.0.1`. */
export function sourceOf(peer: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(peer);
  let host = bracketed ? (bracketed[1] as string) : peer.replace(/:\d+$/, '');
  if (host.startsWith('::ffff:') && host.includes('.')) host = host.slice('::ffff:'.length);
  return host || 'unknown';
}
