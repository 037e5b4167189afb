/**
 * `npm run demo`: a whole mesh on loopback, driven and inspected.
 *
 * Starts a control plane, an OTLP receiver and five meshed instances (each app with its own
 * sidecar), applies deploy/examples/policy.yaml, sends a few hundred requests, and prints what
 * the mesh reports: requests per service, the canary split, retries, `weftctl proxy-status`, and
 * one trace as a tree. Everything is stopped at the end, also when a step fails (exit 1).
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Mesh, renderTraceTree, repoRoot, startOtlpReceiver, type OtlpReceiver } from '@weft/harness';
import { waitForConvergence } from './demo/converge';
import { delta, readCounters, type Counters } from './demo/metrics';
import { hasCompleteTrace, pickTrace, requestsTable, retryLines, splitLines, trafficLine } from './demo/report';
import { instance, startTopology, TOPOLOGY_TEXT, type Instance } from './demo/topology';
import { driveTraffic, warmUp } from './demo/traffic';

const REQUESTS = 300;
const CONCURRENCY = 10;
const DEADLINE_MS = 55_000; // leaves time to stop everything within a minute

const t0 = Date.now();
const say = (text: string): void => void process.stdout.write(`${text}\n`);
const step = (text: string): void => say(`==> ${text}  [${((Date.now() - t0) / 1000).toFixed(1)}s]`);

function meshConfigYaml(otlpEndpoint: string): string {
  return [
    'apiVersion: weft.dev/v1alpha1',
    'kind: MeshConfig',
    'metadata:',
    '  name: default',
    'spec:',
    '  mtls: STRICT',
    '  tracing:',
    `    otlpEndpoint: "${otlpEndpoint}"`,
    '    samplingPercent: 100',
    '',
  ].join('\n');
}

async function apply(mesh: Mesh, args: string[], input?: string): Promise<void> {
  const result = await mesh.weftctl(['apply', ...args], input === undefined ? {} : { input });
  if (result.code !== 0) throw new Error(`weftctl apply ${args.join(' ')} failed (exit ${result.code}):\n${result.stderr.trim()}`);
  say(result.stdout.trimEnd().replace(/^/gm, '    '));
}

async function readAll(instances: readonly Instance[]): Promise<Counters[]> {
  return Promise.all(instances.map((i) => readCounters(i.sidecar)));
}

async function run(mesh: Mesh, state: { receiver?: OtlpReceiver }): Promise<void> {
  say('Weft demo: a control plane, five sidecars and their apps on 127.0.0.1\n');
  say(TOPOLOGY_TEXT);
  say('\nThe demo plays the app "loadgen": it sends plain HTTP with Host: frontend to its own sidecar,');
  say('as any meshed app does, so every hop (loadgen -> frontend -> orders -> inventory) is mTLS.\n');

  const receiver = (state.receiver = await startOtlpReceiver());
  step(`OTLP receiver listening on ${receiver.endpoint}`);
  const cp = await mesh.startControlPlane();
  step(`control plane ready: gRPC ${cp.endpoint}, HTTP 127.0.0.1:${cp.httpPort}, data in ${cp.dataDir}`);

  step('weftctl apply: MeshConfig (tracing to the receiver, 100% sampling)');
  await apply(mesh, ['-f', '-'], meshConfigYaml(receiver.endpoint));
  step('weftctl apply -f deploy/examples/policy.yaml');
  await apply(mesh, ['-f', path.join(repoRoot(), 'deploy', 'examples', 'policy.yaml')]);

  step('starting apps and sidecars (a join token each, from weftctl token create)');
  const instances = await startTopology(mesh);
  for (const i of instances) {
    say(`    ${`${i.service} ${i.version}`.padEnd(13)} app :${i.app.port}  sidecar outbound :${i.sidecar.outboundPort} inbound :${i.sidecar.inboundPort} admin :${i.sidecar.adminPort}`);
  }
  await waitForConvergence(mesh, { loadgen: 1, frontend: 1, orders: 1, inventory: 2 }, instances.length, 20_000);
  step('mesh converged: every endpoint registered and ready, every proxy SYNCED');

  const loadgen = instance(instances, 'loadgen').sidecar;
  await warmUp(loadgen.outboundPort, 10_000);
  const before = await readAll(instances);
  receiver.clear();
  step(`sending ${REQUESTS} requests to frontend, ${CONCURRENCY} at a time`);
  const traffic = await driveTraffic(loadgen.outboundPort, REQUESTS, CONCURRENCY);
  say(`    ${trafficLine(traffic)}`);
  if (traffic.ok === 0) throw new Error(`no request succeeded; first failure: ${traffic.firstFailure}`);
  const after = await readAll(instances);
  const counters = instances.map((inst, i) => ({ instance: inst, counters: delta(after[i] as Counters, before[i] as Counters) }));

  say('\nRequests per instance during the run (inbound side, from each sidecar\'s /metrics):');
  say(requestsTable(counters).trimEnd().replace(/^/gm, '    '));
  say('    (orders fails about 10% of its requests on purpose; its callers retry them)');
  say('\nInventory canary split:');
  say(splitLines(traffic.inventoryVersions, counters.filter((c) => c.instance.service === 'inventory').map((c) => ({ version: c.instance.version, count: c.counters.inbound }))));
  say('\nRetries:');
  const retries = new Map<string, number>();
  for (const c of counters) for (const [d, n] of c.counters.retries) retries.set(d, (retries.get(d) ?? 0) + n);
  say(retryLines(retries, traffic.retriedCalls));

  say('\n$ weftctl proxy-status');
  const status = await mesh.weftctl(['proxy-status']);
  if (status.code !== 0) throw new Error(`weftctl proxy-status failed: ${status.stderr.trim()}`);
  say(status.stdout.trimEnd());

  step('waiting for the sidecars to export spans (they send them in batches)');
  const spans = await receiver.waitForSpans(hasCompleteTrace, 15_000);
  const trace = pickTrace(spans);
  say(`\nOne trace of ${trace.length} spans (of ${spans.length} received), as the sidecars reported it:`);
  say(renderTraceTree(trace, { attributes: ['http.response.status_code'] }).trimEnd().replace(/^/gm, '    '));
}

async function main(): Promise<number> {
  const logDir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-demo-logs-'));
  const mesh = new Mesh({ logDir });
  const state: { receiver?: OtlpReceiver } = {};
  let failure: Error | undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the demo did not finish within ${DEADLINE_MS / 1000}s`)), DEADLINE_MS);
  });
  // Ctrl-C: the harness has already SIGKILLed every child (child-registry); remove what is on disk
  // too. The main path, which fails as its children vanish, then waits for this instead of exiting.
  let interrupted: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\ndemo interrupted (${signal}); cleaning up\n`);
    interrupted ??= Promise.allSettled([mesh.close(0), state.receiver?.close(), fs.rm(logDir, { recursive: true, force: true })]).then(() =>
      process.exit(130),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await Promise.race([run(mesh, state), deadline]);
  } catch (err) {
    failure = err as Error;
  } finally {
    clearTimeout(timer);
    step('stopping everything');
    await mesh.close(5_000).catch((err: Error) => say(`    (while stopping: ${err.message})`));
    await state.receiver?.close();
  }
  if (interrupted) return new Promise<number>(() => undefined); // onSignal exits
  if (failure) {
    process.stderr.write(`\ndemo failed: ${failure.message}\nlogs of every process are kept in ${logDir}\n`);
    return 1;
  }
  await fs.rm(logDir, { recursive: true, force: true });
  step('done');
  return 0;
}

void main().then((code) => {
  // Exit explicitly: an HTTP keep-alive socket or gRPC channel must not keep the demo alive.
  process.stdout.write('', () => process.exit(code));
});
