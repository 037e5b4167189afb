import { request, type IncomingMessage } from 'node:http';
import { dispatchProxied, type ClassifyFailure, type HopPhases, type HttpDispatcher } from '../http/dispatch-response';
import { AppUnavailableError } from '../layers/errors';
import type { HeaderMap, ProxyResponse, Service } from '../layers/service';
import { forwardLocalH2 } from './forward-local-h2';
import { appHeaders, type ForwardRequest, type LocalApp } from './local-app';

export type { AppProtocol, ForwardRequest, LocalApp } from './local-app';

/**
 * Hands the request to the local app. An app whose protocol is not declared (`auto`) is spoken to
 * in the protocol the calling app spoke: HTTP/2 (h2c) for HTTP/2, so a gRPC server works with no
 * flag, and HTTP/1.1 for HTTP/1.1. A declared protocol wins whatever the caller spoke: h2c to an
 * h2c app, HTTP/1.1 to an http1 app. An Upgrade always goes as HTTP/1.1 (there is no other way to
 * upgrade). The app learns who called in `x-weft-peer-identity`, which only this layer sets
 * (accept removed any the caller sent); a plaintext caller gets none.
 */
export function forwardLocal(app: LocalApp): Service<ForwardRequest> {
  const http1 = forwardLocalHttp1(app);
  if (app.protocol === 'http1' || !app.h2) return http1;
  const h2 = forwardLocalH2(app, app.h2);
  if (app.protocol === 'h2c') return (req) => (req.upgrade !== undefined ? http1(req) : h2(req));
  return (req) => (req.upgrade === undefined && req.callerProtocol === 'h2' ? h2(req) : http1(req));
}

/**
 * HTTP/1.1 to the app over kept-alive connections (AppPool: Weft's own H1Pool), streaming both ways; an
 * Upgrade on a connection of its own, which a 101 hands over as the response's tunnel. An app that
 * cannot be reached, or that breaks off before its answer's headers, is a 502 saying so.
 */
function forwardLocalHttp1(app: LocalApp): Service<ForwardRequest> {
  const where = `${app.host}:${app.port}`;
  const classify: ClassifyFailure<ForwardRequest> = (err) => new AppUnavailableError(where, err);
  const pick = (): HttpDispatcher => {
    try {
      return app.http1.get();
    } catch (err) {
      throw new AppUnavailableError(where, err);
    }
  };
  const upgrade = upgradeLocal(app, where);
  return (req) => (req.upgrade !== undefined ? upgrade(req) : dispatchProxied(req, appHeaders(req), pick, classify, APP_HOP));
}

const APP_HOP: HopPhases = { waiting: 'local app', sent: 'local app' };

/** An Upgrade (WebSocket): node:http on a connection of its own, handed over by the 101 as the tunnel. */
function upgradeLocal(app: LocalApp, where: string): Service<ForwardRequest> {
  return (req) =>
    new Promise<ProxyResponse>((resolve, reject) => {
      const signal = req.signal;
      if (signal.aborted) {
        reject(signal.reason as Error);
        return;
      }
      req.record.phase = 'local app';
      let answered = false;
      const out = request({
        host: app.host,
        port: app.port,
        method: req.method,
        path: req.target,
        headers: { ...appHeaders(req), connection: 'Upgrade', upgrade: req.upgrade },
        agent: false,
      });
      // One listener, not node:http's `signal` option (an AbortSignal plus end-of-stream watchers per
      // request): the client leaving or a deadline destroys the request, also while the body streams.
      const onAbort = (): void => void out.destroy(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      out.once('close', () => signal.removeEventListener('abort', onAbort));
      out.on('response', (res) => {
        // The app declined to switch protocols: an ordinary answer.
        answered = true;
        // Node's parsed headers never hold undefined values. Trailers can only follow a chunked body.
        const chunked = res.headers['content-length'] === undefined;
        resolve({ status: res.statusCode ?? 502, headers: res.headers as HeaderMap, body: res, ...(chunked ? { trailers: () => trailersOf(res) } : {}) });
      });
      out.on('upgrade', (res, socket, head: Buffer) => {
        answered = true;
        if (head.length > 0) socket.unshift(head);
        resolve({ status: 101, headers: res.headers as HeaderMap, body: null, tunnel: socket });
      });
      out.on('error', (err) => {
        if (answered) return; // the response body carries its own error to whoever reads it
        reject(signal.aborted ? (signal.reason as Error) : new AppUnavailableError(where, err));
      });
      if (!req.body || Buffer.isBuffer(req.body)) {
        out.end(req.body ?? undefined);
        return;
      }
      // pipe, not pipeline: a failed app request must not destroy the caller's body stream.
      req.body.on('error', (err) => out.destroy(err));
      req.body.pipe(out);
    });
}

/** Chunked HTTP/1.1 trailers, once the body has ended; undefined when the app sent none. */
function trailersOf(res: IncomingMessage): HeaderMap | undefined {
  const t = res.trailers as HeaderMap;
  return Object.keys(t).length > 0 ? t : undefined;
}
