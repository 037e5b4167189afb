/**
 * The control plane's audit trail of refused calls, against a real control plane process: each
 * refusal of Identity.Sign, Discovery.Stream and Admin is logged (who, what, why; never a secret)
 * with a rate limit on the log itself, counted in /metrics, and wrong join token secrets lock the
 * token id, then the source address, out for a while (even the right secret is refused then).
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { type OperatorConfig } from '@weft/api';
import { httpGetText, Mesh, parsePrometheusText, readOperatorConfig, type ControlPlane } from '@weft/harness';
import { ControlPlaneClient, workloadCredential } from './control-plane-client';

const wrongSecret = (): string => randomBytes(32).toString('base64url');
const withSecret = (token: string, secret: string): string => token.split('.').slice(0, 3).concat(secret).join('.');

describe('refused control plane calls are logged, counted and throttled', function () {
  this.timeout(60_000);
  const mesh = new Mesh();
  let cp: ControlPlane;
  let op: OperatorConfig;
  let anonymous: ControlPlaneClient;
  /** Every secret a test sent: none may appear in the control plane's output. */
  const secrets: string[] = [];

  const refusedLines = (rpc: string, reason?: string): Record<string, unknown>[] =>
    cp.proc
      .lines()
      .flatMap((l) => (l.json && l.json['msg'] === 'refused' && l.json['rpc'] === rpc && (!reason || l.json['reason'] === reason) ? [l.json] : []));
  const refusals = async (): Promise<Record<string, number>> => {
    const samples = parsePrometheusText(await httpGetText(cp.httpPort, '/metrics')).filter((s) => s.name === 'weft_cp_refusals_total');
    return Object.fromEntries(samples.map((s) => [`${s.labels['rpc']} ${s.labels['reason']}`, s.value]));
  };

  before(async () => {
    cp = await mesh.startControlPlane();
    op = readOperatorConfig(cp.configPath);
    anonymous = new ControlPlaneClient(op);
  });

  after(async () => {
    anonymous?.close();
    await mesh.close();
  });

  it('logs and counts Admin calls without the operator certificate, and Discovery streams without a workload one', async () => {
    const frontend = await workloadCredential(op, await mesh.createToken('frontend'), 'frontend');
    const workload = new ControlPlaneClient(op, frontend);
    try {
      expect((await anonymous.admin('ListProxies', {})) as { code?: number }).to.include({ ok: false, code: grpc.status.UNAUTHENTICATED });
      expect((await workload.admin('ListTokens', {})) as { code?: number }).to.include({ ok: false, code: grpc.status.PERMISSION_DENIED });
      expect((await anonymous.discoverOnce({ node: { service: 'orders' } as never, responseNonce: '', version: '', error: '' })).code).to.equal(grpc.status.UNAUTHENTICATED);
      // A workload announcing a node of another service on its stream.
      const foreign = { proxyId: 'audit-probe', service: 'payments', namespace: 'default', address: '', labels: {}, ready: false, proxyVersion: 'test', certificateExpiresAtMs: 0 };
      expect((await workload.discoverOnce({ node: foreign, responseNonce: '', version: '', error: '' })).code).to.equal(grpc.status.PERMISSION_DENIED);
    } finally {
      workload.close();
    }
    expect(refusedLines('Admin.ListProxies').map((l) => [l['reason'], l['source'], l['identity']])).to.deep.equal([['WEFT_ERR_UNAUTHENTICATED', '127.0.0.1', undefined]]);
    expect(refusedLines('Admin.ListTokens').map((l) => [l['reason'], l['identity']])).to.deep.equal([['WEFT_ERR_PERMISSION_DENIED', frontend.spiffeId]]);
    expect(refusedLines('Discovery.Stream').map((l) => [l['reason'], l['identity']])).to.deep.equal([
      ['WEFT_ERR_UNAUTHENTICATED', undefined],
      ['WEFT_ERR_PERMISSION_DENIED', frontend.spiffeId],
    ]);
    expect(refusedLines('Admin.ListProxies')[0]?.['peer']).to.match(/^127\.0\.0\.1:\d+$/);
    expect(await refusals()).to.deep.include({
      'Admin.ListProxies WEFT_ERR_UNAUTHENTICATED': 1,
      'Admin.ListTokens WEFT_ERR_PERMISSION_DENIED': 1,
      'Discovery.Stream WEFT_ERR_UNAUTHENTICATED': 1,
      'Discovery.Stream WEFT_ERR_PERMISSION_DENIED': 1,
    });
  });

  it('locks a token id out after 5 wrong secrets: further calls, even with the right secret, get RESOURCE_EXHAUSTED with the time left', async () => {
    const token = await mesh.createToken('orders');
    secrets.push(token.split('.')[3] as string);
    const tokenId = token.split('.')[2] as string;
    const spiffeId = `spiffe://${op.trustDomain}/ns/default/sa/orders`;
    const outcomes: string[] = [];
    for (let i = 0; i < 30; i++) {
      const secret = wrongSecret();
      secrets.push(secret);
      const r = await anonymous.sign(spiffeId, withSecret(token, secret));
      outcomes.push(r.ok ? 'OK' : grpc.status[r.code]);
    }
    expect(outcomes).to.deep.equal([...Array<string>(5).fill('UNAUTHENTICATED'), ...Array<string>(25).fill('RESOURCE_EXHAUSTED')]);
    const right = await anonymous.sign(spiffeId, token);
    expect(right.ok).to.equal(false);
    if (right.ok) return;
    expect(right.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
    expect(right.details).to.match(new RegExp(`^too many wrong join token secrets for join token ${tokenId} \\(5 within 60s\\): Identity.Sign with a token is refused for join token ${tokenId} for \\d+s more`));

    // Logged with who (address, token id), what and why; at most 5 lines per (rpc, reason, source).
    const invalid = refusedLines('Identity.Sign', 'WEFT_ERR_TOKEN_INVALID');
    const locked = refusedLines('Identity.Sign', 'WEFT_ERR_TOO_MANY_FAILURES');
    expect([invalid.length, locked.length]).to.deep.equal([5, 5]);
    for (const line of [...invalid, ...locked]) expect(line).to.include({ source: '127.0.0.1', tokenId });
    expect(await refusals()).to.deep.include({ 'Identity.Sign WEFT_ERR_TOKEN_INVALID': 5, 'Identity.Sign WEFT_ERR_TOO_MANY_FAILURES': 26 });
  });

  it('locks the source address out after 20 wrong secrets across token ids, also for a new valid token', async () => {
    const spiffeId = `spiffe://${op.trustDomain}/ns/default/sa/payments`;
    const token = await mesh.createToken('payments');
    secrets.push(token.split('.')[3] as string);
    const outcomes: string[] = [];
    // 5 failures came from here already; 15 more with ids nobody issued reach the source's limit.
    for (let i = 0; i < 16; i++) {
      const secret = wrongSecret();
      secrets.push(secret);
      const r = await anonymous.sign(spiffeId, withSecret(token, secret).replace(/\.[0-9a-f]{16}\./, `.${randomBytes(8).toString('hex')}.`));
      outcomes.push(r.ok ? 'OK' : grpc.status[r.code]);
    }
    expect(outcomes).to.deep.equal([...Array<string>(15).fill('UNAUTHENTICATED'), 'RESOURCE_EXHAUSTED']);
    const valid = await anonymous.sign(spiffeId, token);
    expect(valid.ok ? 'OK' : valid.details).to.match(/^too many wrong join token secrets from 127\.0\.0\.1 \(20 within 60s\): .* for \d+s more/);
  });

  it('summarizes suppressed refusals when it stops, and never logs a secret', async () => {
    await mesh.group.stop(cp.proc, 'SIGTERM');
    const summaries = cp.proc
      .lines()
      .flatMap((l) => (l.json && typeof l.json['suppressed'] === 'number' ? [[l.json['msg'], l.json['rpc'], l.json['reason'], l.json['source']]] : []));
    expect(summaries).to.have.deep.members([
      // 25 + 1 lockout refusals in the first test, 1 + 1 in the second; 5 of them logged
      ['suppressed 23 similar refusals', 'Identity.Sign', 'WEFT_ERR_TOO_MANY_FAILURES', '127.0.0.1'],
      // 5 + 15 wrong secrets, 5 logged
      ['suppressed 15 similar refusals', 'Identity.Sign', 'WEFT_ERR_TOKEN_INVALID', '127.0.0.1'],
    ]);
    const output = cp.proc.lines().map((l) => l.text).join('\n');
    expect(secrets.length).to.be.greaterThan(40);
    expect(secrets.filter((s) => output.includes(s))).to.deep.equal([]);
  });
});
