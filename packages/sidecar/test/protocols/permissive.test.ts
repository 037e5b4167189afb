import { Agent, request } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { expect } from 'chai';
import { resource, TestMesh, type Caller, type Instance } from '../scenarios/mesh-fixture';

type Plain = { readonly status: number; readonly body: string } | { readonly error: string };

/** A plaintext HTTP/1.1 request straight to an inbound port, as a client outside the mesh sends it. */
function plainGet(port: number, agent: Agent | false = false): Promise<Plain> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/whoami', agent, headers: { host: 'api', 'x-weft-peer-identity': 'spiffe://weft.local/ns/default/sa/admin' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

describe('protocols: mTLS mode STRICT and PERMISSIVE at the inbound port', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let api: Instance;
  let caller: Caller;

  const setMode = (mtls: 'STRICT' | 'PERMISSIVE'): void => {
    mesh.setMeshConfig({ mtls });
    mesh.push();
  };

  before(async () => {
    mesh = new TestMesh();
    // Declared HTTP/1.1: an h2c caller is spoken to the app in HTTP/1.1 (an undeclared app would get h2c).
    api = await mesh.addInstance('api', (req, res) => res.end(`peer=${req.headers['x-weft-peer-identity'] ?? '(none)'} http=${req.httpVersion}`), { appProtocol: 'http1' });
    caller = await mesh.addCaller('frontend');
    mesh.push();
  });
  after(() => mesh?.close());

  it('STRICT (the default) refuses plaintext: the connection closes without an answer', async () => {
    const res = await plainGet(api.inbound.port);
    expect(res).to.have.property('error');
    expect((await caller.send('/whoami', { host: 'api' })).text()).to.equal('peer=spiffe://weft.local/ns/default/sa/frontend http=1.1');
  });

  it('PERMISSIVE accepts plaintext on the same port, with no identity: a forged header never reaches the app', async () => {
    setMode('PERMISSIVE');
    expect(await plainGet(api.inbound.port)).to.deep.equal({ status: 200, body: 'peer=(none) http=1.1' });
    // Mesh callers still come over mTLS with their identity.
    expect((await caller.send('/whoami', { host: 'api' })).text()).to.equal('peer=spiffe://weft.local/ns/default/sa/frontend http=1.1');
  });

  it('PERMISSIVE also tells plaintext HTTP/2 (h2c) apart', async () => {
    const session = h2connect(`http://127.0.0.1:${api.inbound.port}`);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':path': '/whoami', ':authority': 'api' });
        let text = '';
        stream.on('data', (c: Buffer) => (text += c.toString()));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      });
      expect(body).to.equal('peer=(none) http=1.1');
    } finally {
      session.destroy();
    }
  });

  it('treats plaintext as unauthenticated: an ALLOW for named callers denies it', async () => {
    mesh.setResources([resource('AuthorizationPolicy', 'api-allow', { service: 'api', action: 'ALLOW', rules: [{ from: [{ service: 'frontend' }] }] })]);
    setMode('PERMISSIVE');
    try {
      const res = await plainGet(api.inbound.port);
      expect(res).to.include({ status: 403 });
      expect((await caller.send('/whoami', { host: 'api' })).status).to.equal(200);
    } finally {
      mesh.setResources([]);
      mesh.push();
    }
  });

  it('switching back to STRICT at runtime refuses new plaintext connections; open ones finish their life', async () => {
    setMode('PERMISSIVE');
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await plainGet(api.inbound.port, keepAlive)).to.include({ status: 200 });
      setMode('STRICT');
      expect(await plainGet(api.inbound.port), 'a new connection').to.have.property('error');
      expect(await plainGet(api.inbound.port, keepAlive), 'the connection opened under PERMISSIVE').to.include({ status: 200 });
    } finally {
      keepAlive.destroy();
    }
  });
});
