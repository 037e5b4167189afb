import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { expect } from 'chai';
import { ControlPlaneError } from '../../src/errors';
import { CertificateLedger, type LedgerEntry } from '../../src/revocation/certificate-ledger';
import { makeTempDir, removeDir } from '../helpers/fixtures';

const HOUR = 3_600_000;
/** One expiry for every entry made without one, so that an entry made twice is equal to itself. */
const LATER = Date.now() + HOUR;

function entry(n: number, notAfterMs = LATER, proxyId = `p-${n % 3}`): LedgerEntry {
  return { serial: n.toString(16), proxyId, spiffeId: 'spiffe://weft.local/ns/default/sa/web', notAfterMs, tokenId: n % 2 ? 'tok' : '' };
}

async function linesOf(file: string): Promise<string[]> {
  return (await fs.readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
}

describe('CertificateLedger: the journal of issued certificates', () => {
  let dir = '';
  let file = '';
  let legacyFile = '';
  const open = (now?: () => number): Promise<CertificateLedger> => CertificateLedger.open(file, { legacyFile, ...(now ? { now } : {}) });

  beforeEach(async () => {
    dir = await makeTempDir();
    file = path.join(dir, 'certificates.jsonl');
    legacyFile = path.join(dir, 'certificates.json');
  });
  afterEach(() => removeDir(dir));

  it('a burst of records is all on disk when each resolves, one line each, and all of it is read back after a restart', async () => {
    const ledger = await open();
    await Promise.all(Array.from({ length: 300 }, (_, n) => ledger.record(entry(n))));
    // Each record resolved only once durable: the file holds them before close().
    expect(await linesOf(file)).to.have.length(301);
    await ledger.close();
    const reopened = await open();
    expect(reopened.forProxy('p-1').map((e) => e.serial)).to.have.length(100);
    expect(reopened.forProxy('p-2')[0]).to.deep.equal(entry(2));
    await reopened.record(entry(1_000));
    await reopened.close();
    const again = await open();
    expect(again.forProxy('p-1').map((e) => e.serial)).to.include((1_000).toString(16));
    await again.close();
  });

  it('a repeated serial keeps its first record', async () => {
    const ledger = await open();
    await ledger.record(entry(5));
    await ledger.record({ ...entry(5), proxyId: 'other' });
    expect(ledger.forProxy('other')).to.deep.equal([]);
    await ledger.close();
    expect(await linesOf(file)).to.have.length(2);
  });

  it('a line torn by a crash mid-append is dropped on open, and the file is whole again', async () => {
    const ledger = await open();
    await ledger.record(entry(1));
    await ledger.record(entry(2));
    await ledger.close();
    await fs.appendFile(file, '{"serial":"3","proxyId":"p-0","spi');
    const reopened = await open();
    expect(reopened.forProxy('p-1').map((e) => e.serial)).to.deep.equal(['1']);
    expect(reopened.forProxy('p-2').map((e) => e.serial)).to.deep.equal(['2']);
    await reopened.record(entry(4));
    await reopened.close();
    const lines = await linesOf(file);
    expect(lines).to.have.length(4);
    for (const l of lines) expect(() => JSON.parse(l) as unknown).not.to.throw();
  });

  it('a damaged line that is not the last is an error naming the file and line, and the file is left as it was', async () => {
    const ledger = await open();
    await ledger.record(entry(1));
    await ledger.close();
    const damaged = (await fs.readFile(file, 'utf8')).replace('"serial"', '"seri');
    await fs.writeFile(file, `${damaged}${JSON.stringify(entry(2))}\n`);
    const err = await open().then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ControlPlaneError);
    expect((err as ControlPlaneError).code).to.equal('WEFT_ERR_DATA_DIR');
    expect((err as Error).message).to.contain(`${file} line 2`).and.to.contain('restore');
    expect(await fs.readFile(file, 'utf8')).to.equal(`${damaged}${JSON.stringify(entry(2))}\n`);
  });

  it('a journal from a newer version is refused with what to do, not read as empty', async () => {
    await fs.writeFile(file, `${JSON.stringify({ kind: 'weft-certificate-ledger', formatVersion: 99 })}\n`);
    const err = await open().then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).to.contain('format version 99').and.to.contain('newer version');
  });

  it('reads the ledger an earlier version wrote (certificates.json, format 1), carries it into the journal and removes the old file', async () => {
    const old = [entry(1), entry(2), entry(3, Date.now() - 1)];
    await fs.writeFile(legacyFile, JSON.stringify({ formatVersion: 1, certificates: old }, null, 2));
    const ledger = await open();
    expect(ledger.forProxy('p-1')).to.deep.equal([entry(1)]);
    expect(ledger.forProxy('p-0'), 'expired certificates are not carried').to.deep.equal([]);
    await ledger.close();
    await fs.access(legacyFile).then(
      () => expect.fail('certificates.json should be gone'),
      () => undefined,
    );
    const reopened = await open();
    expect(reopened.forProxy('p-2')).to.deep.equal([entry(2)]);
    await reopened.close();
  });

  it('expired certificates leave the file once the journal has grown well past what is live, and the rest reads back', async () => {
    let now = Date.now();
    const ledger = await CertificateLedger.open(file, { now: () => now, rewriteSlack: 10 });
    await Promise.all(Array.from({ length: 100 }, (_, n) => ledger.record(entry(n, now + 1_000))));
    expect(await linesOf(file)).to.have.length(101);
    now += 2_000; // all of those expired
    for (let n = 0; n < 12; n++) await ledger.record(entry(5_000 + n, now + HOUR, 'live'));
    await ledger.close();
    const lines = await linesOf(file);
    expect(lines.length).to.be.at.most(13);
    const reopened = await CertificateLedger.open(file, { now: () => now });
    expect(reopened.forProxy('live')).to.have.length(12);
    expect(reopened.forProxy('p-1')).to.deep.equal([]);
    await reopened.close();
  });
});
