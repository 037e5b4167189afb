#!/usr/bin/env node
// A sample HTTP service for trying Weft. Plain Node.js, no dependencies: copy it and change it.
//
//   node sample-service.js --name orders --port 8080 --version v1 --call inventory
//
// Flags:
//   --name NAME          the service name it reports (required)
//   --port PORT          port to listen on, on 127.0.0.1 (default 8080; 0 picks a free one)
//   --version V          the version it reports (default v1); route subsets select on labels like it
//   --call S1[,S2...]    services to call for every request it serves, through its sidecar
//   --fail-first N       answer 503 to the first N requests (to watch retries recover)
//   --fail-rate P        answer 503 to a fraction P (0..1) of requests, at random
//
// When it is listening it prints one JSON line on stdout: {"msg":"listening","port":N}.
//
// What a meshed app does, and this one shows:
// - It calls other services through its sidecar's outbound port (WEFT_OUTBOUND_PORT, default
//   15001) as plain HTTP, naming the destination in the Host header. The sidecar does the rest:
//   discovery, load balancing, retries, timeouts, mutual TLS.
// - It copies the trace context (traceparent, tracestate) from the request it is serving onto the
//   calls it makes. The sidecars record spans, but only the app knows which outgoing call belongs
//   to which incoming request, so without this step every hop would start a new trace (the same
//   is true with Istio or Linkerd).
// - It can trust x-weft-peer-identity: the inbound sidecar sets it to the caller's verified SPIFFE
//   ID and removes it from anything that did not come through the mesh.
'use strict';

const http = require('node:http');

function parseFlags(argv) {
  const flags = { name: '', port: 8080, version: 'v1', call: [], failFirst: 0, failRate: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (value === undefined) fail(`${key} needs a value`);
    switch (key) {
      case '--name': flags.name = value; break;
      case '--port': flags.port = Number(value); break;
      case '--version': flags.version = value; break;
      case '--call': flags.call = value.split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--fail-first': flags.failFirst = Number(value); break;
      case '--fail-rate': flags.failRate = Number(value); break;
      default: fail(`unknown flag ${key}`);
    }
  }
  if (!flags.name) fail('--name is required');
  if (!Number.isInteger(flags.port) || flags.port < 0 || flags.port > 65535) fail('--port must be a port number');
  if (!(flags.failRate >= 0 && flags.failRate <= 1)) fail('--fail-rate must be between 0 and 1');
  if (!Number.isInteger(flags.failFirst) || flags.failFirst < 0) fail('--fail-first must be a whole number');
  return flags;
}

function fail(message) {
  process.stderr.write(`sample-service: ${message}\n`);
  process.exit(2);
}

const flags = parseFlags(process.argv.slice(2));
const outboundPort = Number(process.env.WEFT_OUTBOUND_PORT || 15001);
// Reuse connections to the sidecar, as any production HTTP client would.
const agent = new http.Agent({ keepAlive: true });

// Trace context headers (W3C Trace Context) that must follow a request from hop to hop.
const PROPAGATED = ['traceparent', 'tracestate'];

/** Calls one service through the local sidecar; resolves with what happened, never rejects. */
function callService(service, incoming) {
  const headers = { host: service };
  for (const name of PROPAGATED) if (incoming.headers[name]) headers[name] = incoming.headers[name];
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port: outboundPort, path: incoming.url, method: 'GET', headers, agent, timeout: 10000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => {
          let parsed = body;
          try { parsed = JSON.parse(body); } catch { /* not JSON: keep the text (a sidecar error page) */ }
          // x-weft-attempts: how many tries the sidecar made (more than 1 means it retried);
          // null when the sidecar did not say.
          const attempts = res.headers['x-weft-attempts'] ? Number(res.headers['x-weft-attempts']) : null;
          resolve({ service, status: res.statusCode, attempts, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve({ service, status: 0, error: err.message }));
    req.end();
  });
}

let served = 0;

const server = http.createServer(async (req, res) => {
  served += 1;
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const me = { service: flags.name, version: flags.version, peer: req.headers['x-weft-peer-identity'] || null };

  // Deliberate failures, before any downstream call, so retries have something to recover from.
  if (served <= flags.failFirst || Math.random() < flags.failRate) {
    return reply(503, { ...me, error: 'deliberate failure (--fail-first / --fail-rate)' });
  }
  const downstream = await Promise.all(flags.call.map((service) => callService(service, req)));
  const ok = downstream.every((d) => d.status >= 200 && d.status < 300);
  reply(ok ? 200 : 502, { ...me, downstream });
});

server.keepAliveTimeout = 30000;
server.listen(flags.port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', service: flags.name, version: flags.version, port: server.address().port })}\n`);
});

// Stop cleanly when the process manager (or the demo) asks.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
