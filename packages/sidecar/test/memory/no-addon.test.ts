import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { parsePrometheusText, recordingLogger, sumSamples, waitFor } from '@weft/harness';
import { loadNativeMemory } from '../../src/memory/native-memory';
import { startSidecar, type RunningSidecar } from '../../src/sidecar';
import { FakeControlPlane } from '../control/fake-control-plane';
import { stubCompile } from '../control/helpers';
import { fakeListener } from '../admin/fake-listener';
import { request } from '../admin/http';


describe('a sidecar without the memory addon', function () {
  this.timeout(30_000);
  let cp: FakeControlPlane;
  let sidecar: RunningSidecar | undefined;

  before(async () => {
    cp = await FakeControlPlane.start();
  });
  after(async () => {
    await sidecar?.close();
    await cp?.stop();
  });

  it('still starts and serves, gives memory back with an ordinary full collection, and says once that it cannot trim', async () => {
    const logger = recordingLogger();
    const outbound = { served: 0 };
    sidecar = await startSidecar({
      service: 'orders', appPort: 8080, controlPlane: cp.address, token: cp.tokenFor('orders'),
      inboundPort: 0, outboundPort: 0, adminPort: 0, bindAdmin: '127.0.0.1', logger, memoryReleaseIdleMs: 200,
      overrides: {
        compile: stubCompile,
        startOutbound: () => fakeListener([], outbound),
        startInbound: () => fakeListener(),
        nativeMemory: loadNativeMemory('/nonexistent/weft_memory.node'),
      },
    });
    cp.push(cp.makeSnapshot());
    await sidecar.whenReady();
    const port = sidecar.ports.admin;
    expect((await request(port, '/ready')).status).to.equal(200);
    const releases = async (): Promise<number> => sumSamples(parsePrometheusText((await request(port, '/metrics')).body), 'weft_sidecar_memory_released_total');
    await waitFor('the release after start-up', async () => ((await releases()) === 1 ? true : undefined), 5_000);
    outbound.served += 10; // a burst of traffic, then idle again
    await waitFor('the release after the traffic', async () => ((await releases()) === 2 ? true : undefined), 5_000);
    await sleep(600);
    expect(await releases()).to.equal(2);

    const said = logger.lines.filter((l) => /memory addon is unavailable/.test(l.msg));
    expect(said, 'told once, at start, not at each release').to.have.length(1);
    expect(said[0]?.fields['reason']).to.match(/not built.*npm ci/);
    const done = logger.lines.filter((l) => l.msg === 'idle: memory given back');
    expect(done.map((l) => [l.fields['collection'], l.fields['trimmed']])).to.deep.equal([['full', false], ['full', false]]);
  });
});
