import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { measureModuleLoad, packageOf, programPath, runNode } from '@weft/harness';

/** Packages the sidecar must not load at start: they serve the control plane or a fuller OpenTelemetry setup. */
const UNWANTED = [
  // The CA's library (CSRs are built with node:crypto) and the YAML parser (policy arrives as JSON).
  'node-forge',
  'yaml',
  // Neither HTTP/1.1 hop uses undici any more (http1/pool.ts); only its types describe the dispatch contract.
  'undici',
  // Loaded with the exporter once a collector is configured.
  '@opentelemetry/exporter-trace-otlp-grpc',
  '@opentelemetry/sdk-metrics',
  '@opentelemetry/sdk-logs',
  // sdk-node bundles metrics, logs, instrumentation and every exporter; the sidecar only traces.
  '@opentelemetry/sdk-node',
];
const unwanted = (packages: readonly string[]): string[] =>
  packages.filter((p) => UNWANTED.includes(p) || p.startsWith('@opentelemetry/instrumentation') || p.startsWith('@opentelemetry/exporter-'));

const BUNDLE_DIR = path.join(__dirname, '..', '..', 'dist', 'bundle');

/** The bundle's metafile (written by scripts/bundle-sidecar.ts): each input file with the bytes it put into main.js. */
function bundledInputs(): Map<string, number> {
  const meta = JSON.parse(readFileSync(path.join(BUNDLE_DIR, 'meta.json'), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
  };
  const main = Object.entries(meta.outputs).find(([file]) => file.endsWith('/bundle/main.js'));
  if (!main) throw new Error('meta.json has no main.js output: run `npm run build`');
  return new Map(Object.entries(main[1].inputs).map(([file, input]) => [file, input.bytesInOutput]));
}

/** The packages whose code is in main.js (files that tree-shaking emptied do not count). */
function bundledPackages(): string[] {
  const root = path.join(__dirname, '..', '..', '..', '..');
  const names = new Set<string>();
  for (const [file, bytes] of bundledInputs()) if (bytes > 0) names.add(packageOf(path.join(root, file)));
  return [...names];
}

/**
 * What the sidecar loads when it starts. Requiring an entry starts nothing (the bin calls
 * main()), so a child's require.cache is exactly the entry's static module graph.
 */
describe('sidecar entry module graph', function () {
  this.timeout(30_000);

  it('tsc output (the library entry): does not load node-forge, yaml, undici, the OTLP exporter or the OpenTelemetry SDK bundle', async () => {
    const load = await measureModuleLoad(path.join(__dirname, '..', 'src', 'main.js'));
    const packages = [...load.byPackage.keys()];
    // What it must load: proof that the probe saw the real graph, not an empty one.
    expect(packages).to.include.members(['@weft/sidecar', '@weft/api', '@weft/pki', '@grpc/grpc-js', '@opentelemetry/sdk-trace-base']);
    expect(unwanted(packages), 'packages the sidecar entry should not load').to.deep.equal([]);
  });

  it('bundle: holds the sidecar and what it uses, and none of the packages it must not load', () => {
    const packages = bundledPackages();
    expect(packages).to.include.members(['@weft/sidecar', '@weft/api', '@weft/pki', 'zod', '@opentelemetry/sdk-trace-base']);
    expect(unwanted(packages), 'packages bundled into the sidecar').to.deep.equal([]);
  });

  it('bundle: keeps zod but not its locales (66 files, 6.5 MB of RSS that nothing uses)', () => {
    const locales = [...bundledInputs()]
      .filter(([file, bytes]) => file.includes('/zod/') && /\/locales\/[^/]+\.js$/.test(file) && bytes > 0)
      .map(([file]) => path.basename(file));
    // English is zod's default error map (config(en()) in zod's classic entry); index.js is its
    // empty namespace object.
    expect(locales.filter((name) => name !== 'index.js')).to.deep.equal(['en.js']);
  });

  it('bundle: a process that requires it loads only the bundle and gRPC', async () => {
    const load = await measureModuleLoad(path.join(BUNDLE_DIR, 'main.js'));
    const bundleFiles = load.files.filter((file) => file.startsWith(BUNDLE_DIR));
    expect(bundleFiles).to.deep.equal([path.join(BUNDLE_DIR, 'main.js')]);
    const packages = [...load.byPackage.keys()];
    expect(packages).to.include('@grpc/grpc-js');
    expect(packages, 'modules loaded beside the bundle').to.have.members(['@weft/sidecar', '@grpc/grpc-js', '@js-sdsl/ordered-map']);
  });

  it('the weft-sidecar bin runs the bundle, not the tsc output', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'weft-graph-'));
    try {
      const preload = path.join(dir, 'modules-at-exit.js');
      writeFileSync(preload, "process.on('exit', () => process.stderr.write(JSON.stringify(Object.keys(require.cache)) + '\\n'));\n");
      const result = await runNode(programPath('sidecar'), ['--version'], { nodeArgs: ['--require', preload] });
      expect(result.code, result.stderr).to.equal(0);
      // The version is read from the package.json found above the bundle: 'unknown' if the path broke.
      const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
      expect(result.stdout.trim()).to.equal(`weft-sidecar ${version}`);
      const files = JSON.parse(result.stderr.trim().split('\n').pop() ?? '[]') as string[];
      const sidecarFiles = files.filter((file) => packageOf(file) === '@weft/sidecar');
      expect(sidecarFiles.map((file) => path.relative(path.join(BUNDLE_DIR, '..', '..'), file)).sort())
        .to.deep.equal([path.join('bin', 'weft-sidecar.js'), path.join('dist', 'bundle', 'main.js')]);
      expect(files.filter((file) => packageOf(file) === '@weft/api' || packageOf(file) === '@weft/pki')).to.deep.equal([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sidecar lazy bundles', () => {
  it('only the OTLP exporter is a lazy bundle, and no bundle holds undici (both HTTP/1.1 hops are Weft\'s own pool)', () => {
    const meta = JSON.parse(readFileSync(path.join(BUNDLE_DIR, 'meta.json'), 'utf8')) as {
      outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
    };
    const bundles = Object.keys(meta.outputs).filter((file) => file.endsWith('.js')).map((file) => path.basename(file)).sort();
    expect(bundles).to.deep.equal(['main.js', 'otlp-exporter.js']);
    const root = path.join(__dirname, '..', '..', '..', '..');
    const undici = Object.values(meta.outputs).flatMap((output) => Object.entries(output.inputs))
      .filter(([file, input]) => input.bytesInOutput > 0 && packageOf(path.join(root, file)) === 'undici');
    expect(undici.map(([file]) => file)).to.deep.equal([]);
  });
});
