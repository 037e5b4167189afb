import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { expect } from 'chai';
import { validateDocuments, type PolicyResource } from '@weft/api';
import { recordingLogger } from '@weft/harness';
import { FileStore, type StoreChange } from '../../src/index';
import { meshConfig, makeTempDir, removeDir, route } from '../helpers/fixtures';

function resources(...values: Record<string, unknown>[]): PolicyResource[] {
  return validateDocuments(values.map((value, i) => ({ source: 'test', document: i + 1, value })));
}

describe('FileStore', () => {
  let dir: string;
  let file: string;
  let store: FileStore | undefined;

  beforeEach(async () => {
    dir = await makeTempDir();
    file = path.join(dir, 'store.json');
    store = await FileStore.open(file);
  });

  afterEach(async () => {
    await store?.close();
    store = undefined;
    await removeDir(dir);
  });

  it('applies a batch atomically and moves the revision once', async () => {
    const s = store as FileStore;
    const changes: StoreChange[] = [];
    s.subscribe((c) => changes.push(c));
    const out = await s.apply(resources(route('a', 'reviews'), route('b', 'ratings')));
    expect(out.revision).to.equal(1);
    expect(out.results.map((r) => `${r.name}:${r.action}`)).to.deep.equal(['a:created', 'b:created']);
    expect(s.list('Route').map((r) => r.metadata.name)).to.deep.equal(['a', 'b']);
    expect(changes).to.have.length(1);
    expect(changes[0]?.keys).to.have.members(['Route/default/a', 'Route/default/b']);
  });

  it('reports unchanged and configured, and does not move the revision when nothing changed', async () => {
    const s = store as FileStore;
    await s.apply(resources(route('a', 'reviews')));
    const same = await s.apply(resources(route('a', 'reviews')));
    expect(same.revision).to.equal(1);
    expect(same.results[0]?.action).to.equal('unchanged');
    const changed = await s.apply(resources(route('a', 'reviews'), route('b', 'x')).map((r) => (r.metadata.name === 'a' ? { ...r, spec: { service: 'other', rules: [{}] } } as PolicyResource : r)));
    expect(changed.revision).to.equal(2);
    expect(changed.results.map((r) => r.action)).to.deep.equal(['configured', 'created']);
  });

  it('stores nothing when the write fails: all or nothing', async () => {
    const s = store as FileStore;
    await s.apply(resources(route('a', 'reviews')));
    // A directory where the store file should be makes the rename fail.
    await fs.rm(file);
    await fs.mkdir(file);
    let failed = false;
    try {
      await s.apply(resources(route('b', 'x'), route('c', 'y')));
    } catch {
      failed = true;
    }
    expect(failed).to.equal(true);
    expect(s.revision).to.equal(1);
    expect(s.list().map((r) => r.metadata.name)).to.deep.equal(['a']);
  });

  it('dry run reports actions and stores nothing', async () => {
    const s = store as FileStore;
    const out = await s.apply(resources(route('a', 'reviews')), { dryRun: true });
    expect(out.dryRun).to.equal(true);
    expect(out.results[0]?.action).to.equal('created');
    expect(out.revision).to.equal(0);
    expect(s.list()).to.have.length(0);
    expect(await fs.stat(file).catch(() => undefined)).to.equal(undefined);
  });

  it('survives reopening from disk, with resources and revision', async () => {
    const s = store as FileStore;
    await s.apply(resources(route('a', 'reviews', { namespace: 'shop' })));
    const del = await s.delete('Route', 'shop', 'a');
    expect(del).to.deep.equal({ revision: 2, deleted: true });
    await s.apply(resources(route('b', 'ratings')));
    await s.close();
    store = await FileStore.open(file);
    expect(store.revision).to.equal(3);
    expect(store.list().map((r) => `${r.metadata.namespace}/${r.metadata.name}`)).to.deep.equal(['default/b']);
    expect(store.get('Route/default/b')?.spec).to.deep.include({ service: 'ratings' });
  });

  it('delete of a missing resource changes nothing', async () => {
    const s = store as FileStore;
    expect(await s.delete('Route', 'default', 'nope')).to.deep.equal({ revision: 0, deleted: false });
  });

  it('filters by kind and namespace', async () => {
    const s = store as FileStore;
    await s.apply(resources(route('a', 'x', { namespace: 'one' }), route('b', 'y', { namespace: 'two' })));
    expect(s.list('Route', 'two').map((r) => r.metadata.name)).to.deep.equal(['b']);
    expect(s.list('ServicePolicy')).to.have.length(0);
  });

  it('refuses a corrupt file instead of starting empty', async () => {
    await fs.writeFile(file, '{not json');
    let message = '';
    try {
      await FileStore.open(file);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).to.contain('not valid JSON');
  });

  it('loads back a MeshConfig it stored (mesh-wide: no namespace in the file)', async () => {
    const s = store as FileStore;
    await s.apply(resources(meshConfig({ accessLog: true }), route('a', 'reviews')));
    const before = s.list();
    await s.close();
    const onDisk = JSON.parse(await fs.readFile(file, 'utf8')) as { resources: { kind: string; metadata: Record<string, unknown> }[] };
    expect(onDisk.resources.find((r) => r.kind === 'MeshConfig')?.metadata).to.deep.equal({ name: 'default' });
    store = await FileStore.open(file);
    expect(store.list()).to.deep.equal(before);
  });

  it('loads a store an older build wrote (MeshConfig with namespace ""), and writes it back migrated', async () => {
    await store?.close();
    const old = {
      formatVersion: 1,
      revision: 4,
      resources: [
        { apiVersion: 'weft.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default', namespace: '' }, spec: { accessLog: true, mtls: 'PERMISSIVE' } },
        { apiVersion: 'weft.dev/v1alpha1', kind: 'Route', metadata: { name: 'a', namespace: 'default' }, spec: { service: 'reviews', rules: [{ timeout: '2s' }] } },
      ],
    };
    await fs.writeFile(file, JSON.stringify(old));
    const log = recordingLogger();
    const { lines } = log;
    store = await FileStore.open(file, { log });
    expect(store.revision).to.equal(4);
    expect(store.get('MeshConfig//default')?.spec).to.deep.equal({ accessLog: true, mtls: 'PERMISSIVE' });
    expect(store.get('Route/default/a')?.spec).to.deep.include({ service: 'reviews' });
    expect(lines.filter((l) => l.level === 'error')).to.deep.equal([]);
    const rewritten = JSON.parse(await fs.readFile(file, 'utf8')) as typeof old;
    expect(rewritten.resources[0]?.metadata).to.deep.equal({ name: 'default' });
  });

  it('skips a Route it cannot load, says which and how to repair it, keeps it in the file, and an apply replaces it', async () => {
    await store?.close();
    const broken = { apiVersion: 'weft.dev/v1alpha1', kind: 'Route', metadata: { name: 'bad' }, spec: { service: 'reviews', rules: [{ timeout: 'soon' }] } };
    await fs.writeFile(file, JSON.stringify({ formatVersion: 1, revision: 2, resources: [route('a', 'reviews'), broken] }));
    const log = recordingLogger();
    const { lines } = log;
    store = await FileStore.open(file, { log });
    expect(store.list().map((r) => r.metadata.name)).to.deep.equal(['a']);
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).to.have.length(1);
    expect(errors[0]?.fields).to.deep.include({ index: 2, kind: 'Route', name: 'bad' });
    expect(String(errors[0]?.fields['problem'])).to.contain('spec.rules[0].timeout').and.contain('resource 2').and.contain('weftctl apply -f');

    // Another change keeps the skipped resource in the file, so the operator can still repair it.
    await store.apply(resources(route('b', 'ratings')));
    const kept = JSON.parse(await fs.readFile(file, 'utf8')) as { resources: unknown[] };
    expect(kept.resources).to.deep.include(broken);
    // Applying a good Route of that name replaces it, and the next load is clean.
    await store.apply(resources(route('bad', 'reviews')));
    await store.close();
    const again = recordingLogger();
    store = await FileStore.open(file, { log: again });
    expect(store.list().map((r) => r.metadata.name)).to.deep.equal(['a', 'b', 'bad']);
    expect(again.lines.filter((l) => l.level === 'error')).to.deep.equal([]);
  });

  it('refuses to start without an AuthorizationPolicy it cannot load, naming it and the repair', async () => {
    await store?.close();
    store = undefined;
    const broken = { apiVersion: 'weft.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'deny-delete', namespace: 'shop' }, spec: { service: 'orders', action: 'MAYBE' } };
    await fs.writeFile(file, JSON.stringify({ formatVersion: 1, revision: 1, resources: [route('a', 'reviews'), broken] }));
    const err = await FileStore.open(file).then(() => undefined, (e: unknown) => e as Error & { code?: string });
    expect(err?.code).to.equal('WEFT_ERR_DATA_DIR');
    expect(err?.message).to.contain('resource 2 (AuthorizationPolicy shop/deny-delete)').and.contain('spec.action').and.contain('could let through traffic');
  });
});
