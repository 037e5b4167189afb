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
 * Whitespace and comments go; syntax and identifiers stay as written, so stack traces and CPU
 * profiles read as the sources do (esbuild renames only where two modules' top-level names
 * collide: `parse2`). The source map is a separate file that Node loads only with
 * --enable-source-maps.
 */
import * as esbuild from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '@weft/harness';

const root = repoRoot();
const sidecar = path.join(root, 'packages', 'sidecar');
export const BUNDLE_DIR = path.join(sidecar, 'dist', 'bundle');

/**
 * What main.js loads with plain `require`, as the tsc output does. yaml is required only where
 * policy arrives as YAML (never in a sidecar). gRPC is in both the entry's graph and the
 * exporter's: one copy, so that the credentials the sidecar builds are the exporter's own class,
 * and no second copy of its code in memory.
 */
const EXTERNAL = ['yaml', '@grpc/grpc-js'];

/**
 * Code the sidecar loads only when first needed, as separate bundles beside main.js that it
 * `require`s at that moment: the OTLP exporter once a collector is configured. Bundled, the
 * exporter costs 0.7 MB of RSS instead of 7.8 (its transformer's metrics and logs SDKs are
 * tree-shaken away; docs/performance.md, "One bundled file"). (undici's Pool was the other one
 * until both HTTP/1.1 hops moved to Weft's own pool, http1/pool.ts.)
 * `from` is the specifier the sources require; `export` what that require returns.
 */
const LAZY: readonly { readonly bundle: string; readonly modules: readonly { readonly from: string; readonly export: string }[] }[] = [
  { bundle: 'otlp-exporter', modules: [{ from: '@opentelemetry/exporter-trace-otlp-grpc', export: 'exporter' }] },
];
const LAZY_ENTRY = 'weft-lazy-entry';
const LAZY_STUB = 'weft-lazy-stub';

/**
 * In main.js, each lazily required module becomes a stub that requires its bundle (a path
 * relative to main.js, left to Node); each lazy bundle's entry collects its modules' exports.
 */
const lazyBundles: esbuild.Plugin = {
  name: 'lazy-bundles',
  setup(build) {
    const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const byModule = new Map(LAZY.flatMap((lazy) => lazy.modules.map((module) => [module.from, { bundle: lazy.bundle, export: module.export }] as const)));
    const filter = new RegExp(`^(${[...byModule.keys()].map(escape).join('|')})$`);
    build.onResolve({ filter }, (args) => (args.namespace === LAZY_ENTRY ? undefined : { path: args.path, namespace: LAZY_STUB }));
    build.onLoad({ filter: /.*/, namespace: LAZY_STUB }, (args) => {
      const target = byModule.get(args.path);
      return { contents: `module.exports = require('./${target?.bundle}.js').${target?.export};`, loader: 'js' };
    });
    build.onResolve({ filter: /^\.\/[a-z-]+\.js$/, namespace: LAZY_STUB }, (args) => ({ path: args.path, external: true }));
    build.onResolve({ filter: /^weft-lazy:/ }, (args) => ({ path: args.path.slice('weft-lazy:'.length), namespace: LAZY_ENTRY }));
    build.onLoad({ filter: /.*/, namespace: LAZY_ENTRY }, (args) => {
      const lazy = LAZY.find((candidate) => candidate.bundle === args.path);
      const exports = lazy?.modules.map((module) => `${module.export}: require('${module.from}')`).join(', ');
      // Resolved from the sidecar's package, as its sources are: the root's node_modules may hold
      // another major version of a package than packages/sidecar/node_modules.
      return { contents: `module.exports = { ${exports} };`, loader: 'js', resolveDir: sidecar };
    });
  },
};

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

export async function bundleSidecar(outdir = BUNDLE_DIR): Promise<esbuild.Metafile> {
  mkdirSync(outdir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: { main: path.join(sidecar, 'src', 'main.ts'), ...Object.fromEntries(LAZY.map((lazy) => [lazy.bundle, `weft-lazy:${lazy.bundle}`])) },
    absWorkingDir: root,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // ESM builds first: they are what esbuild can tree-shake.
    mainFields: ['module', 'main'],
    external: EXTERNAL.flatMap((name) => [name, `${name}/*`]),
    minifyWhitespace: true,
    // Syntax left as written, as stack traces read it. Session 7 measured syntax minification at
    // more CPU per request in single turn-taking runs, which session 8 found too noisy to show
    // differences under 4% (docs/performance.md, "One bundled file"); it would save little memory.
    minifySyntax: false,
    // Names stay as written, so stack traces and profiles read as the sources do. No keepNames:
    // without renaming it only adds a `__name(fn, ...)` call (Object.defineProperty) wherever a
    // function is created, per request for closures on the data path (1,541 calls in main.js).
    minifyIdentifiers: false,
    legalComments: 'none',
    sourcemap: 'external',
    metafile: true,
    logLevel: 'warning',
    plugins: [weftSources, lazyBundles],
  });
  // Tests read which modules went into the bundle from here (main-module-graph.test.ts).
  writeFileSync(path.join(outdir, 'meta.json'), JSON.stringify(result.metafile));
  return result.metafile;
}

if (require.main === module) {
  bundleSidecar().catch((err: unknown) => {
    process.stderr.write(`bundle-sidecar: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
