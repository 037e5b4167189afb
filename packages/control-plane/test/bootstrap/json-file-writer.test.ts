import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { expect } from 'chai';
import { JsonFileWriter } from '../../src/bootstrap/json-file-writer';
import { makeTempDir, removeDir } from '../helpers/fixtures';

describe('JsonFileWriter', () => {
  let dir: string | undefined;
  afterEach(() => removeDir(dir));

  it('under a burst, every call resolves once its state (or a newer one) is on disk, and the file ends newest', async () => {
    dir = await makeTempDir();
    const file = path.join(dir, 'burst.json');
    const writer = new JsonFileWriter(file);
    const onDisk = async (): Promise<number> => (JSON.parse(await fs.readFile(file, 'utf8')) as { n: number }).n;
    const seen = await Promise.all(Array.from({ length: 200 }, (_, n) => writer.write({ n }).then(onDisk).then((found) => found >= n)));
    expect(seen.every(Boolean)).to.equal(true);
    await writer.flush();
    expect(await onDisk()).to.equal(199);
    // The value is captured at the call: changing the object afterwards changes nothing written.
    const value = { n: 500 };
    const written = writer.write(value);
    value.n = 7;
    await written;
    expect(await onDisk()).to.equal(500);
  });

  it('writeLatest builds the content once per file write, not once per call, and still ends with the newest state', async () => {
    dir = await makeTempDir();
    const file = path.join(dir, 'ledger.json');
    const writer = new JsonFileWriter(file);
    const state: number[] = [];
    let built = 0;
    const produce = (): unknown => {
      built += 1;
      return { entries: [...state] };
    };
    const calls = Array.from({ length: 300 }, (_, n) => {
      state.push(n);
      return writer.writeLatest(produce);
    });
    await Promise.all(calls);
    // The first write starts on the next tick with all 300 entries; at most one more follows.
    expect(built).to.be.at.most(2);
    expect((JSON.parse(await fs.readFile(file, 'utf8')) as { entries: number[] }).entries).to.have.length(300);
  });
});
