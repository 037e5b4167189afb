import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { startControlPlane } from '@weft/control-plane';
import { quietLogger, weftctl } from '@weft/harness';
import { expect } from 'chai';
import { startFakeControlPlane, type FakeControlPlane } from './fake-control-plane';

/**
 * The real weftctl binary, run as a child process, against a control plane over mutual TLS.
 * The same scenarios run against the stand-in admin server (which also lets us provoke failures
 * the real one will not produce on demand) and against the real control plane, in-process.
 */
interface Target {
  readonly configPath: string;
  close(): Promise<void>;
}

const ROUTES = `apiVersion: weft.dev/v1alpha1
kind: ServicePolicy
metadata:
  name: reviews
spec:
  service: reviews
  subsets:
    - name: v1
      labels: { version: v1 }
---
apiVersion: weft.dev/v1alpha1
kind: Route
metadata:
  name: reviews
spec:
  service: reviews
  rules:
    - retries: { attempts: 2 }
`;
const INVALID = `${ROUTES.replace(/reviews/g, 'ratings')}---
apiVersion: weft.dev/v1alpha1
kind: Route
metadata:
  name: orders
spec:
  service: orders
  rules:
    - retries: { attempts: -1 }
`;

function scenarios(start: () => Promise<Target>): void {
  let target: Target;
  let dir: string;
  const ctl = (args: string[], input?: string) => weftctl(args, { config: target.configPath, ...(input === undefined ? {} : { input }) });

  before(async function () {
    this.timeout(30_000);
    target = await start();
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'weftctl-files-'));
    await fsp.writeFile(path.join(dir, 'routes.yaml'), ROUTES);
    await fsp.writeFile(path.join(dir, 'invalid.yaml'), INVALID);
  });
  after(async () => {
    await target?.close();
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  it('apply --dry-run reports what would change and stores nothing', async () => {
    const dry = await ctl(['apply', '-f', path.join(dir, 'routes.yaml'), '--dry-run']);
    expect(dry.stdout).to.equal('servicepolicy.weft.dev/reviews created (dry run)\nroute.weft.dev/reviews created (dry run)\n');
    expect(dry.code).to.equal(0);
    expect(JSON.parse((await ctl(['get', 'routes', '-o', 'json'])).stdout)).to.deep.equal([]);
  });

  it('apply stores valid files, and a second apply is unchanged', async () => {
    const first = await ctl(['apply', '-f', path.join(dir, 'routes.yaml')]);
    expect([first.code, first.stdout, first.stderr]).to.deep.equal([0, 'servicepolicy.weft.dev/reviews created\nroute.weft.dev/reviews created\n', '']);
    const again = await ctl(['apply', '-f', '-'], ROUTES);
    expect(again.stdout).to.equal('servicepolicy.weft.dev/reviews unchanged\nroute.weft.dev/reviews unchanged\n');
  });

  it('apply of an invalid file exits 1 with the exact message and stores nothing from it', async () => {
    const file = path.join(dir, 'invalid.yaml');
    const bad = await ctl(['apply', '-f', file]);
    expect([bad.code, bad.stdout, bad.stderr]).to.deep.equal([1, '', `${file}: document 3: Route orders: spec.rules[0].retries.attempts: must be >= 0\n`]);
    const names = (JSON.parse((await ctl(['get', 'routes', '-A', '-o', 'json'])).stdout) as { metadata: { name: string } }[]).map((r) => r.metadata.name);
    expect(names).to.deep.equal(['reviews']);
  });

  it('get -o json returns an array for a list and the object for one name', async () => {
    const list = await ctl(['get', 'routes', '-o', 'json']);
    const one = await ctl(['get', 'route', 'reviews', '-o', 'json']);
    expect(list.code).to.equal(0);
    expect(JSON.parse(list.stdout)).to.be.an('array').with.length(1);
    expect(JSON.parse(one.stdout)).to.deep.include({ kind: 'Route', metadata: { name: 'reviews', namespace: 'default' } });
    const table = await ctl(['get', 'servicepolicies']);
    expect(table.stdout).to.match(/^NAMESPACE\s+NAME\s+SERVICE\s+SUBSETS\s+LOAD BALANCER\ndefault\s+reviews\s+reviews\s+v1\s+-\n$/);
  });

  it('delete removes the resource; deleting it again fails with exit 1', async () => {
    const del = await ctl(['delete', 'route', 'reviews']);
    expect([del.code, del.stdout]).to.deep.equal([0, 'route.weft.dev/reviews deleted\n']);
    expect(JSON.parse((await ctl(['get', 'routes', '-o', 'json'])).stdout)).to.deep.equal([]);
    const again = await ctl(['delete', 'route', 'reviews']);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.match(/^error: .*reviews.*\n$/);
  });

  it('token create prints only the token on stdout', async () => {
    const result = await ctl(['token', 'create', '--service', 'orders', '--ttl', '10m']);
    expect(result.code).to.equal(0);
    expect(result.stdout).to.match(/^\S+\n$/);
    expect(result.stderr).to.include('spiffe://weft.local/ns/default/sa/orders');
  });
}

describe('weftctl binary against the stand-in admin server (mTLS)', () => {
  let fake: FakeControlPlane;
  scenarios(async () => (fake = await startFakeControlPlane()));

  it('passes the server\'s INVALID_ARGUMENT report through unchanged, exit 1', async () => {
    fake.applyRejection = 'request: document 1: Route reviews: spec.rules[0].backends[0].subset: no subset "v9" in ServicePolicy reviews\nsecond line';
    try {
      const result = await weftctl(['apply', '-f', '-'], { config: fake.configPath, input: ROUTES });
      expect([result.code, result.stderr]).to.deep.equal([1, `${fake.applyRejection}\n`]);
    } finally {
      fake.applyRejection = undefined;
    }
  });

  it('refuses a server whose certificate is not the control plane\'s SPIFFE ID', async () => {
    const impostor = await startFakeControlPlane({ serverIdentity: 'spiffe://weft.local/ns/default/sa/impostor' });
    try {
      const result = await weftctl(['get', 'routes'], { config: impostor.configPath });
      expect(result.code).to.equal(1);
      expect(result.stderr).to.include(`cannot reach the control plane at ${impostor.endpoint}`);
      expect(result.stderr).to.include('spiffe://weft.local/ns/default/sa/impostor');
      expect(result.stderr).to.include(`TLS handshake failed (the server's certificate is for spiffe://weft.local/ns/default/sa/impostor`);
      expect(result.stderr).to.include(`Is ${impostor.configPath} the weftctl.json this control plane wrote?`);
    } finally {
      await impostor.close();
    }
  });

  it('says which endpoint it could not reach, and which config it used', async () => {
    const config = JSON.parse(fs.readFileSync(fake.configPath, 'utf8')) as Record<string, string>;
    const file = path.join(os.tmpdir(), `weftctl-down-${process.pid}.json`);
    fs.writeFileSync(file, JSON.stringify({ ...config, endpoint: '127.0.0.1:1' }), { mode: 0o600 });
    try {
      const result = await weftctl(['proxy-status'], { config: file });
      expect(result.code).to.equal(1);
      // One line: the address, what failed, what to check; none of grpc-js's internals.
      expect(result.stderr).to.equal(`error: cannot reach the control plane at 127.0.0.1:1: connection refused. Is weft-control-plane running, and is the endpoint in ${file} right?\n`);
      expect(result.stderr).to.not.include('PRIVATE KEY');
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});

describe('weftctl binary against an in-process weft-control-plane', () => {
  scenarios(async () => {
    const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'weftctl-cp-'));
    const cp = await startControlPlane({ dataDir, listen: '127.0.0.1:0', http: '127.0.0.1:0', logger: quietLogger });
    return {
      configPath: cp.operatorConfigPath,
      close: async () => {
        await cp.close();
        await fsp.rm(dataDir, { recursive: true, force: true });
      },
    };
  });
});
