import { expect } from 'chai';
import * as fs from 'node:fs';
import { httpGetText, Mesh, parsePrometheusText, startOtlpReceiver, sumSamples, waitFor, type OtlpReceiver, type Sidecar } from '@weft/harness';
import { API, apply, callVia, Load, sleep, startEchoApp, type EchoApp } from './fixtures';

/** Resident set of a process in MB, from /proc (Linux). */
function rssMb(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

async function dropped(sidecar: Sidecar): Promise<number> {
  return sumSamples(parsePrometheusText(await httpGetText(sidecar.adminPort, '/metrics')), 'weft_spans_dropped_total');
}

describe('tracing: the collector stops under load', function () {
  this.timeout(120_000);
  const mesh = new Mesh();
  let receiver: OtlpReceiver;
  let app: EchoApp;
  let clientApp: EchoApp;
  let client: Sidecar;

  before(async () => {
    receiver = await startOtlpReceiver();
    const cp = await mesh.startControlPlane();
    // Every request recorded, at most 500 spans held per sidecar, export requests gzipped.
    await apply(mesh, `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {tracing: {otlpEndpoint: "${receiver.endpoint}", samplingPercent: 100, maxQueueSize: 500, compression: gzip}}\n`);
    app = await startEchoApp('inventory');
    clientApp = await startEchoApp('client');
    [client] = await Promise.all([
      mesh.startSidecar({ service: 'client', appPort: clientApp.port, token: await mesh.createToken('client'), controlPlane: cp.endpoint }),
      mesh.startSidecar({ service: 'inventory', appPort: app.port, token: await mesh.createToken('inventory'), controlPlane: cp.endpoint }),
    ]);
    await waitFor('client to reach inventory', async () => ((await callVia(client, 'inventory')).status === 200 ? true : undefined), 15_000);
  });

  after(async () => {
    await mesh.close();
    await Promise.all([receiver?.close(), app?.close(), clientApp?.close()]);
  });

  it('keeps answering every request, drops and counts spans, and holds its memory; exports resume when the collector is back', async () => {
    // Warm up with the collector taking (gzipped) spans, then read the baseline: nothing dropped.
    const warm = new Load(() => callVia(client, 'inventory'), 1);
    await sleep(2000);
    await warm.stop();
    expect(warm.failures()).to.deep.equal([]);
    await receiver.waitForSpans((all) => all.length >= warm.results.length, 15_000);
    const rssBefore = rssMb(client.proc.pid);
    expect(await dropped(client)).to.equal(0);

    // The collector goes away for 10 s while requests keep coming, every one of them recorded.
    const port = receiver.port;
    await receiver.close();
    const load = new Load(() => callVia(client, 'inventory', { timeoutMs: 10_000 }), 4);
    await sleep(10_000);
    await load.stop();
    expect(load.failures(), 'requests while the collector was down').to.deep.equal([]);
    expect(load.results.length).to.be.above(200);
    const lost = await dropped(client);
    // More spans than the queue holds were recorded: the rest were dropped, and counted.
    expect(lost, `${load.results.length} requests recorded with a queue of 500`).to.be.above(0);
    const rssAfter = rssMb(client.proc.pid);
    // A generous bound: a queue of 500 spans is well under a megabyte; the rest is the heap breathing.
    expect(rssAfter - rssBefore, `RSS ${rssBefore.toFixed(1)} -> ${rssAfter.toFixed(1)} MB`).to.be.below(60);

    // The collector comes back on the same address: new spans reach it again.
    receiver = await startOtlpReceiver({ port });
    const back = new Load(() => callVia(client, 'inventory'), 2);
    try {
      await receiver.waitForSpans((all) => all.some((s) => s.serviceName === 'client'), 30_000);
    } finally {
      await back.stop();
    }
    expect(back.failures()).to.deep.equal([]);
  });
});
