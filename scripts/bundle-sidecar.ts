/**
 * Bundles the sidecar's entry into packages/sidecar/dist/bundle/ (run by `npm run build`, after
 * `tsc -b`). The bin (packages/sidecar/bin/weft-sidecar.js) requires the bundle; `@weft/sidecar`'s
 * `main` stays the tsc output, which tests and other packages use as a library.
 *
 *   node scripts/dist/bundle-sidecar.js
 *
 * Why: a Node process keeps every loaded module's source text in its heap, and 480 unminified
 * files with their comments cost about 5 MB of it, plus the code of modules the sidecar never
 * calls (zod's 66 locales alone, about 6.5 MB of RSS). The bundle is built from the TypeScript
 * sources, not from the tsc output: only `import` statements let esbuild resolve ESM builds of
 * the dependencies (zod, OpenTelemetry) and drop what nothing uses; tsc's `require` calls would
 * pull in their CommonJS builds whole. `tsc -b` has type-checked the same sources just before.
 *
 * Whitespace and comments go and syntax is simplified, but identifiers keep their names: stack
 * traces and CPU profiles must stay readable. The source map is a separate file that Node loads
 * only with --enable-source-maps.
 */
import * as esbuild from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '@weft/harness';

const root = repoRoot();
const sidecar = path.join(root, 'packages', 'sidecar');
export const BUNDLE_DIR = path.join(sidecar, 'dist', 'bundle');

/**
 * What stays out of main.js, loaded by plain `require` when first needed, as with the tsc output:
 * undici's Pool and connector come with the first upstream pool, the OTLP exporter (with the
 * metrics and logs SDKs its transformer brings) once a collector is configured. gRPC is in both
 * the entry's graph and the exporter's: one copy, so that the credentials the sidecar builds are
 * the exporter's own class, and no second copy of its code in memory.
 */
const EXTERNAL = ['undici', 'yaml', '@opentelemetry/exporter-trace-otlp-grpc', '@grpc/grpc-js'];

/** `@weft/<name>` resolves to its TypeScript source, so that its imports stay ESM (see above). */
const weftSources: esbuild.Plugin = {
  name: 'weft-sources',
  setup(build) {
    // `@weft/pki/workload` -> packages/pki/src/workload.ts, `@weft/api` -> packages/api/src/index.ts
    build.onResolve({ filter: /^@weft\/(api|pki)(\/[a-z-]+)?$/ }, (args) => {
      const [, name, subpath] = /^@weft\/([a-z]+)(?:\/([a-z-]+))?$/.exec(args.path) ?? [];
      return { path: path.join(root, 'packages', name ?? '', 'src', `${subpath ?? 'index'}.ts`) };
    });
  },
};

export async function bundleSidecar(): Promise<esbuild.Metafile> {
  mkdirSync(BUNDLE_DIR, { recursive: true });
  const result = await esbuild.build({
    entryPoints: { main: path.join(sidecar, 'src', 'main.ts') },
    absWorkingDir: root,
    outdir: BUNDLE_DIR,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // ESM builds first: they are what esbuild can tree-shake.
    mainFields: ['module', 'main'],
    external: EXTERNAL.flatMap((name) => [name, `${name}/*`]),
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: false,
    keepNames: true,
    legalComments: 'none',
    sourcemap: 'external',
    metafile: true,
    logLevel: 'warning',
    plugins: [weftSources],
  });
  // Tests read which modules went into the bundle from here (main-module-graph.test.ts).
  writeFileSync(path.join(BUNDLE_DIR, 'meta.json'), JSON.stringify(result.metafile));
  return result.metafile;
}

if (require.main === module) {
  bundleSidecar().catch((err: unknown) => {
    process.stderr.write(`bundle-sidecar: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
