import { request, type Agent } from 'node:http';
import type { Readable } from 'node:stream';
import { HEADERS } from '@weft/api';
import { AppUnavailableError } from '../layers/errors';
import type { HeaderMap, ProxyResponse, Service } from '../layers/http';
import type { Phase } from '../telemetry/record';
import type { PeerIdentity } from './tls-terminate';

export interface LocalApp {
  readonly host: string;
  readonly port: number;
  /** Keep-alive agent shared by every request to the app. */
  readonly agent: Agent;
}

export interface ForwardRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: HeaderMap;
  readonly body: Readable | null;
  readonly signal: AbortSignal;
  readonly peer: PeerIdentity;
  readonly record: { phase: Phase };
}

/**
 * Hands the request to the local app over a kept-alive plain HTTP connection, streaming both
 * ways. The app learns who called in `x-weft-peer-identity`, which only this layer sets (accept
 * removed any the caller sent). An app that cannot be reached is a 502 saying so.
 */
export function forwardLocal(app: LocalApp): Service<ForwardRequest> {
  const where = `${app.host}:${app.port}`;
  return (req) =>
    new Promise<ProxyResponse>((resolve, reject) => {
      req.record.phase = 'local app';
      let answered = false;
      const out = request({
        host: app.host,
        port: app.port,
        method: req.method,
        path: req.target,
        headers: { ...req.headers, [HEADERS.peerIdentity]: req.peer.spiffeId },
        agent: app.agent,
        signal: req.signal,
      });
      out.on('response', (res) => {
        answered = true;
        // Node's parsed headers never hold undefined values.
        resolve({ status: res.statusCode ?? 502, headers: res.headers as HeaderMap, body: res });
      });
      out.on('error', (err) => {
        if (answered) return; // the response body carries its own error to whoever reads it
        reject(req.signal.aborted ? (req.signal.reason as Error) : new AppUnavailableError(where, err));
      });
      if (!req.body) {
        out.end();
        return;
      }
      // pipe, not pipeline: a failed app request must not destroy the caller's body stream.
      req.body.on('error', (err) => out.destroy(err));
      req.body.pipe(out);
    });
}
