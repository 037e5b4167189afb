import { expect } from 'chai';
import * as path from 'node:path';
import { measureModuleLoad } from '@weft/harness';

/**
 * The sidecar's entry module loads what the sidecar uses and nothing that only the control plane
 * or a fuller OpenTelemetry setup needs. Requiring main.js starts nothing (the bin script calls
 * main()), so the child's require.cache is exactly the entry's static module graph.
 */
describe('sidecar entry module graph', function () {
  this.timeout(30_000);

  it('does not load node-forge, yaml, undici, the OTLP exporter or the OpenTelemetry SDK bundle', async () => {
    const load = await measureModuleLoad(path.join(__dirname, '..', 'src', 'main.js'));
    const packages = [...load.byPackage.keys()];
    // What it must load: proof that the probe saw the real graph, not an empty one.
    expect(packages).to.include.members(['@weft/sidecar', '@weft/api', '@weft/pki', '@grpc/grpc-js', '@opentelemetry/sdk-trace-base']);
    const unwanted = [
      // The CA's library (CSRs are built with node:crypto) and the YAML parser (policy arrives as JSON).
      'node-forge',
      'yaml',
      // Loaded with the first upstream pool, and with the exporter once a collector is configured.
      'undici',
      '@opentelemetry/exporter-trace-otlp-grpc',
      '@opentelemetry/sdk-metrics',
      '@opentelemetry/sdk-logs',
      // sdk-node bundles metrics, logs, instrumentation and every exporter; the sidecar only traces.
      '@opentelemetry/sdk-node',
    ];
    const loadedUnwanted = packages.filter((p) => unwanted.includes(p) || p.startsWith('@opentelemetry/instrumentation') || p.startsWith('@opentelemetry/exporter-'));
    expect(loadedUnwanted, 'packages the sidecar entry should not load').to.deep.equal([]);
  });
});
