import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { expect } from 'chai';
import { validateDocuments, type PolicyResource } from '@weft/api';
import { FileStore, type StoreChange } from '../../src/index';
import { makeTempDir, removeDir, route } from '../helpers/fixtures';

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
});
