import type { ProxyStatus, WireServiceEndpoints } from '@weft/api';
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../src/main';
import { FAKE_CONFIG, fakeAdmin, memoryIo } from './memory-io';

/** The fixtures live beside the sources (test/fixtures/analyze), one problem per file. */
const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'analyze');
const fixtures: Record<string, string> = Object.fromEntries(fs.readdirSync(FIXTURES).map((f) => [f, fs.readFileSync(path.join(FIXTURES, f), 'utf8')]));

interface JsonFinding {
  code: string;
  name: string;
  severity: string;
  file: string;
  document: number | null;
  resource: { kind: string; namespace: string; name: string };
  field: string;
  message: string;
}

async function analyze(args: string[], options: { connect?: Parameters<typeof run>[2] } = {}) {
  const io = memoryIo({ ...fixtures, '/c.json': FAKE_CONFIG });
  const code = await run(['analyze', ...args], io, options.connect ?? { connect: () => fakeAdmin() });
  return { code, out: io.out, err: io.err };
}

async function findingsOf(file: string, extra: string[] = [], options: { connect?: Parameters<typeof run>[2] } = {}) {
  const r = await analyze(['-f', file, '-o', 'json', ...extra], options);
  const body = JSON.parse(r.out) as { findings: JsonFinding[]; errors: number; warnings: number; failed: boolean };
  return { ...r, ...body, brief: body.findings.map((f) => [f.code, f.name, f.severity, f.file, f.document, `${f.resource.kind} ${f.resource.namespace}/${f.resource.name}`, f.field]) };
}

describe('weftctl analyze', () => {
  it('finds nothing in a clean file, and exits 0 with every threshold', async () => {
    for (const threshold of ['error', 'warn']) {
      const r = await analyze(['-f', 'clean.yaml', '--failure-threshold', threshold]);
      expect([r.code, r.out, r.err]).to.deep.equal([0, '', '✓ no problems found in 4 resources\n']);
    }
  });

  it('WA0001: reports schema errors as findings, with the validator\'s file, document and field', async () => {
    const r = await findingsOf('schema-error.yaml');
    expect(r.brief).to.deep.equal([['WA0001', 'SchemaInvalid', 'error', 'schema-error.yaml', 1, 'Route default/reviews', 'spec.rules[0].retries.attempts']]);
    expect(r.findings[0]?.message).to.equal('must be >= 0');
    expect(r.code).to.equal(1);
  });

  it('WA0002: a Route backend naming a subset no ServicePolicy defines', async () => {
    const r = await findingsOf('unknown-subset.yaml');
    expect(r.brief).to.deep.equal([['WA0002', 'UnknownSubset', 'error', 'unknown-subset.yaml', 2, 'Route default/reviews', 'spec.rules[0].backends[1].subset']]);
    expect(r.findings[0]?.message).to.contain('names subset "v3", but the ServicePolicy for reviews defines v1, v2');
    expect(r.code).to.equal(1);
  });

  it('WA0003: a subset whose labels select no registered instance, only against the control plane', async () => {
    const offline = await findingsOf('empty-subset.yaml');
    expect(offline.brief).to.deep.equal([]);
    const services: WireServiceEndpoints[] = [
      { service: 'reviews', namespace: 'default', spiffeId: 'spiffe://weft.local/ns/default/sa/reviews', endpoints: [{ address: '127.0.0.1:1', labels: { version: 'v1' }, ready: true, proxyId: 'p1' }] },
    ];
    const admin = fakeAdmin({
      get: async () => ({ itemsJson: [], revision: 1 }),
      listServices: async () => ({ services }),
      listProxies: async () => ({ proxies: [{ proxyId: 'p2', service: 'reviews', namespace: 'default', labels: { version: 'v2' } } as unknown as ProxyStatus], currentRevision: '1' }),
    });
    const live = await findingsOf('empty-subset.yaml', ['--against-control-plane', '--config', '/c.json'], { connect: { connect: () => admin } });
    expect(live.brief).to.deep.equal([['WA0003', 'SubsetSelectsNoInstance', 'warn', 'empty-subset.yaml', 1, 'ServicePolicy default/reviews', 'spec.subsets[1].labels']]);
    expect(live.findings[0]?.message).to.contain('subset "canary" selects version=v9, but none of the 2 instances of reviews carries them');
    // A warning passes the default threshold (error) and fails --failure-threshold warn.
    expect(live.code).to.equal(0);
    const strict = await analyze(['-f', 'empty-subset.yaml', '--against-control-plane', '--config', '/c.json', '--failure-threshold', 'warn'], { connect: { connect: () => admin } });
    expect(strict.code).to.equal(1);
  });

  it('WA0004: a rule shadowed by an earlier catch-all prefix', async () => {
    const r = await findingsOf('shadowed-rule.yaml');
    expect(r.brief).to.deep.equal([['WA0004', 'ShadowedRule', 'warn', 'shadowed-rule.yaml', 1, 'Route default/orders', 'spec.rules[1]']]);
    expect(r.findings[0]?.message).to.contain('spec.rules[0] (path prefix "/") matches every request this rule matches');
    expect(r.code).to.equal(0);
  });

  it('WA0005: an AuthorizationPolicy for a service that exists nowhere, with a did-you-mean', async () => {
    const r = await findingsOf('unknown-authz-service.yaml');
    expect(r.brief).to.deep.equal([['WA0005', 'UnknownAuthorizationTarget', 'warn', 'unknown-authz-service.yaml', 2, 'AuthorizationPolicy default/inventory-callers', 'spec.service']]);
    expect(r.findings[0]?.message).to.contain('did you mean "inventory"?');
  });

  it('WA0006: an ALLOW rule a DENY rule makes unreachable (and not the ALLOW rule it leaves alone)', async () => {
    const r = await findingsOf('deny-shadows-allow.yaml');
    expect(r.brief).to.deep.equal([['WA0006', 'AllowShadowedByDeny', 'warn', 'deny-shadows-allow.yaml', 3, 'AuthorizationPolicy default/payments-allow', 'spec.rules[1]']]);
    expect(r.findings[0]?.message).to.contain('DENY AuthorizationPolicy default/payments-deny-admin spec.rules[0]');
  });

  it('analyses files together: a resource in two files is reported as apply reports it, and the first one is analysed', async () => {
    const r = await findingsOf('clean.yaml', ['-f', 'unknown-subset.yaml']);
    expect(r.brief).to.deep.equal([
      ['WA0001', 'SchemaInvalid', 'error', 'unknown-subset.yaml', 1, 'ServicePolicy default/reviews', 'metadata.name'],
      ['WA0001', 'SchemaInvalid', 'error', 'unknown-subset.yaml', 2, 'Route default/reviews', 'metadata.name'],
    ]);
    expect(r.findings[1]?.message).to.equal('duplicates clean.yaml: document 2 (each resource may appear once per apply)');
  });

  it('files replace live resources of the same kind and name', async () => {
    const stale = { apiVersion: 'weft.dev/v1alpha1', kind: 'ServicePolicy', metadata: { name: 'reviews', namespace: 'default' }, spec: { service: 'reviews', subsets: [{ name: 'v3', labels: { version: 'v3' } }] } };
    const route = { apiVersion: 'weft.dev/v1alpha1', kind: 'Route', metadata: { name: 'live', namespace: 'default' }, spec: { service: 'reviews', rules: [{ backends: [{ subset: 'v3' }] }] } };
    const admin = fakeAdmin({
      get: async (req) => ({ itemsJson: req.kind === 'ServicePolicy' ? [JSON.stringify(stale)] : req.kind === 'Route' ? [JSON.stringify(route)] : [], revision: 1 }),
      listServices: async () => ({ services: [] }),
      listProxies: async () => ({ proxies: [], currentRevision: '1' }),
    });
    const r = await findingsOf('clean.yaml', ['--against-control-plane', '--config', '/c.json'], { connect: { connect: () => admin } });
    // The live Route names v3, which only the live ServicePolicy defined, and the file replaced it.
    const unknown = r.brief.filter((b) => b[0] === 'WA0002');
    expect(unknown).to.deep.equal([['WA0002', 'UnknownSubset', 'error', 'control-plane', null, 'Route default/live', 'spec.rules[0].backends[0].subset']]);
  });

  it('prints one line per finding and a summary; exit codes follow the threshold', async () => {
    const r = await analyze(['-f', 'shadowed-rule.yaml', '-f', 'unknown-subset.yaml']);
    expect(r.out.split('\n')[0]).to.equal(
      'WARN [WA0004 ShadowedRule] shadowed-rule.yaml: document 1: Route default/orders: spec.rules[1]: is never used: spec.rules[0] (path prefix "/") matches every request this rule matches, and the first matching rule wins. Move this rule above spec.rules[0], or remove it',
    );
    expect(r.out.split('\n')[1]).to.match(/^ERROR \[WA0002 UnknownSubset\] unknown-subset\.yaml: document 2: Route default\/reviews: spec\.rules\[0\]\.backends\[1\]\.subset: /);
    expect(r.err).to.equal('✗ 1 error, 1 warning in 3 resources: the analysis fails (--failure-threshold error)\n');
    expect(r.code).to.equal(1);
    const warnOnly = await analyze(['-f', 'shadowed-rule.yaml']);
    expect([warnOnly.code, warnOnly.err]).to.deep.equal([0, '✓ 0 errors, 1 warning in 1 resource: the analysis passes (nothing at or above --failure-threshold error)\n']);
    expect((await analyze(['-f', 'shadowed-rule.yaml', '--failure-threshold', 'warn'])).code).to.equal(1);
  });

  it('usage errors exit 2: no file, a bad threshold, a bad format', async () => {
    expect((await analyze([])).code).to.equal(2);
    expect((await analyze(['-f', 'clean.yaml', '--failure-threshold', 'info'])).code).to.equal(2);
    expect((await analyze(['-f', 'clean.yaml', '-o', 'yaml'])).code).to.equal(2);
  });

  it('works offline: without --against-control-plane no configuration is read', async () => {
    const io = memoryIo(fixtures);
    expect(await run(['analyze', '-f', 'clean.yaml'], io)).to.equal(0);
  });
});
