import * as tls from 'node:tls';
import { expect } from 'chai';
import { quietLogger } from '@weft/harness';
import { startControlPlane, type RunningControlPlane } from '../../src/index';
import { makeTempDir, removeDir } from '../helpers/fixtures';

/** The certificates the server presents, as a sidecar sees them on first contact (nothing trusted yet). */
function presented(port: number): Promise<tls.DetailedPeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'weft-control-plane', rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => {
      const cert = socket.getPeerCertificate(true);
      socket.end();
      resolve(cert);
    });
    socket.on('error', reject);
  });
}

const hex = (fingerprint: string): string => fingerprint.replace(/:/g, '').toLowerCase();

describe('serving certificate', () => {
  let dir: string | undefined;
  let cp: RunningControlPlane | undefined;

  beforeEach(async () => {
    dir = await makeTempDir();
  });

  afterEach(async () => {
    await cp?.close();
    cp = undefined;
    await removeDir(dir);
  });

  it('presents leaf + root, so a sidecar can pin the root by the fingerprint in its token', async () => {
    cp = await startControlPlane({ dataDir: dir as string, listen: '127.0.0.1:0', http: '127.0.0.1:0', logger: quietLogger });
    const leaf = await presented(cp.grpcPort);
    expect(leaf.subjectaltname).to.contain('URI:spiffe://weft.local/ns/weft-system/sa/weft-control-plane');
    expect(leaf.subjectaltname).to.contain('DNS:localhost').and.contain('IP Address:127.0.0.1');
    expect(hex(leaf.issuerCertificate.fingerprint256)).to.equal(cp.rootFingerprint);
  });

  it('is kept across restarts, and re-issued when --san changes', async () => {
    cp = await startControlPlane({ dataDir: dir as string, listen: '127.0.0.1:0', http: '127.0.0.1:0', sans: ['cp.example.com'], logger: quietLogger });
    const first = await presented(cp.grpcPort);
    expect(first.subjectaltname).to.contain('DNS:cp.example.com');
    await cp.close();
    cp = await startControlPlane({ dataDir: dir as string, listen: '127.0.0.1:0', http: '127.0.0.1:0', sans: ['cp.example.com'], logger: quietLogger });
    expect((await presented(cp.grpcPort)).serialNumber).to.equal(first.serialNumber);
    await cp.close();
    cp = await startControlPlane({ dataDir: dir as string, listen: '127.0.0.1:0', http: '127.0.0.1:0', sans: ['10.9.8.7'], logger: quietLogger });
    const third = await presented(cp.grpcPort);
    expect(third.serialNumber).to.not.equal(first.serialNumber);
    expect(third.subjectaltname).to.contain('IP Address:10.9.8.7').and.not.contain('cp.example.com');
  });
});
