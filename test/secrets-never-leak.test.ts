/**
 * Private keys never leave the files they live in: a whole mesh (control plane, two sidecars,
 * traffic, debug logging, access logs, weftctl commands that succeed and commands that fail) is
 * run, and then every line any process printed, every sidecar's /config and /metrics, the control
 * plane's HTTP pages and every weftctl output are searched for `PRIVATE KEY` and for pieces of
 * the actual keys: the operator key (weftctl.json) and every key in the control plane's data
 * directory (the CA key among them).
 */
import { expect } from 'chai';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { httpGetText, Mesh, programPath, repoRoot, runNode, waitFor, weftctl, type RunResult, type Sidecar } from '@weft/harness';
import { API, apply, callVia, startEchoApp, type EchoApp } from './fixtures';

const PEM_KEY = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----([\s\S]*?)-----END \1PRIVATE KEY-----/g;

/**
 * Base64 pieces of every PEM private key in `text` (also when it sits JSON-escaped in a file):
 * 40 characters from the start, middle and end of each key's body, each within one PEM line, so
 * a key printed whole, line by line, or escaped would be found.
 */
function keyFragments(text: string): string[] {
  const fragments: string[] = [];
  for (const m of text.replace(/\\n/g, '\n').matchAll(PEM_KEY)) {
    const lines = (m[2] ?? '').split(/\s+/).filter((l) => l.length >= 48);
    for (const line of [lines[0], lines[Math.floor(lines.length / 2)], lines.at(-1)]) if (line) fragments.push(line.slice(4, 44));
  }
  return fragments;
}

/** Every file under `dir`, recursively, as text. */
async function readTree(dir: string): Promise<{ file: string; text: string }[]> {
  const out: { file: string; text: string }[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await readTree(full)));
    else if (entry.isFile()) out.push({ file: full, text: await fs.readFile(full, 'utf8') });
  }
  return out;
}

describe('secrets never leak: no private key in any log, /config page or weftctl output', function () {
  this.timeout(60_000);
  let logDir: string;
  let mesh: Mesh;
  const apps: EchoApp[] = [];
  /** Everything that must be clean, by where it came from. */
  const outputs: { where: string; text: string }[] = [];
  const record = (where: string, run: RunResult): RunResult => {
    outputs.push({ where: `${where} (stdout)`, text: run.stdout }, { where: `${where} (stderr)`, text: run.stderr });
    return run;
  };
  const savedLevel = process.env['WEFT_LOG_LEVEL'];

  before(async () => {
    // Debug logging in every process this suite starts: the most a process ever says.
    process.env['WEFT_LOG_LEVEL'] = 'debug';
    logDir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-leak-logs-'));
    mesh = new Mesh({ logDir });
  });

  after(async () => {
    if (savedLevel === undefined) delete process.env['WEFT_LOG_LEVEL'];
    else process.env['WEFT_LOG_LEVEL'] = savedLevel;
    await mesh?.close();
    await Promise.all(apps.map((a) => a.close()));
    if (logDir) await fs.rm(logDir, { recursive: true, force: true });
  });

  it('runs a mesh through success and failure, then finds no key material anywhere it printed', async () => {
    const cp = await mesh.startControlPlane();
    const run = (where: string, args: string[], input?: string): Promise<RunResult> =>
      mesh.weftctl(args, input === undefined ? {} : { input }).then((r) => record(`weftctl ${where}`, r));

    await apply(mesh, `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {accessLog: true}\n---\n${API}\nkind: AuthorizationPolicy\nmetadata: {name: orders-callers}\nspec: {service: orders, action: ALLOW, rules: [{from: [{service: frontend}]}]}\n`);
    const [ordersApp, frontendApp] = await Promise.all([startEchoApp('orders'), startEchoApp('frontend')]);
    apps.push(ordersApp, frontendApp);
    const ordersToken = (await run('token create', ['token', 'create', '--service', 'orders'])).stdout.trim();
    const sidecars: Sidecar[] = await Promise.all([
      mesh.startSidecar({ service: 'orders', appPort: ordersApp.port, token: ordersToken, controlPlane: cp.endpoint }),
      mesh.startSidecar({ service: 'frontend', appPort: frontendApp.port, token: await mesh.createToken('frontend'), controlPlane: cp.endpoint }),
    ]);
    const [orders, frontend] = sidecars as [Sidecar, Sidecar];
    await waitFor('frontend to reach orders', async () => ((await callVia(frontend, 'orders')).status === 200 ? true : undefined), 15_000);
    await callVia(orders, 'frontend'); // the other direction: frontend has no policy, so it is allowed
    await callVia(frontend, 'nowhere'); // 503 from the sidecar

    // Operator commands, the ones that work and the ones that fail.
    await run('get', ['get', 'authorizationpolicies', '-A', '-o', 'yaml']);
    await run('get meshconfig', ['get', 'meshconfig', '-o', 'json']);
    await run('proxy-status', ['proxy-status', '-o', 'json']);
    await run('token list', ['token', 'list', '-o', 'json']);
    await run('ca status', ['ca', 'status', '-o', 'json']);
    await run('get services', ['get', 'services']);
    await run('auth check', ['auth', 'check', '--from', 'stranger', '--to', 'orders', '--method', 'GET', '--path', '/']);
    await run('get missing', ['get', 'route', 'missing']);
    await run('apply invalid', ['apply', '-f', '-'], `${API}\nkind: Route\nmetadata: {name: bad}\nspec: {service: x, rules: [{timeout: nope}]}\n`);
    const config = JSON.parse(await fs.readFile(cp.configPath, 'utf8')) as Record<string, string>;
    const dir = await mesh.tempDir('broken-config');
    const unreachable = path.join(dir, 'unreachable.json');
    await fs.writeFile(unreachable, JSON.stringify({ ...config, endpoint: '127.0.0.1:1' }), { mode: 0o600 });
    record('weftctl unreachable', await weftctl(['get', 'routes'], { config: unreachable }));
    const garbled = path.join(dir, 'garbled.json');
    await fs.writeFile(garbled, JSON.stringify({ ...config, certificatePem: 'not a certificate' }), { mode: 0o600 });
    record('weftctl garbled', await weftctl(['get', 'routes'], { config: garbled }));
    const truncated = path.join(dir, 'truncated.json');
    await fs.writeFile(truncated, (await fs.readFile(cp.configPath, 'utf8')).slice(0, 900), { mode: 0o600 });
    record('weftctl truncated', await weftctl(['get', 'routes'], { config: truncated }));
    // Sidecars that cannot start: a token for another identity, and a wrong secret (both refusals
    // are in the control plane's audit log, which must name the token id and never the secret).
    const wrongSecret = `${ordersToken.split('.').slice(0, 3).join('.')}.${'Wrong0Secret'.repeat(4)}`;
    for (const [where, service, token] of [['refused', 'payments', ordersToken], ['wrong secret', 'orders', wrongSecret]] as const) {
      record(
        `weft-sidecar ${where}`,
        await runNode(programPath('sidecar'), ['--service', service, '--app-port', '1', '--control-plane', cp.endpoint, '--inbound-port', '0', '--outbound-port', '0', '--admin-port', '0', '--bind-inbound', '127.0.0.1', '--bind-admin', '127.0.0.1'], {
          cwd: repoRoot(),
          env: { WEFT_TOKEN: token },
          timeoutMs: 20_000,
        }),
      );
    }

    // The admin pages.
    for (const s of sidecars) {
      for (const page of ['/config', '/metrics', '/ready']) outputs.push({ where: `${s.service} ${page}`, text: await httpGetText(s.adminPort, page).catch((e: Error) => e.message) });
    }
    for (const page of ['/metrics', '/ready', '/live']) outputs.push({ where: `control plane ${page}`, text: await httpGetText(cp.httpPort, page).catch((e: Error) => e.message) });

    // Stop everything so that shutdown logging is included, then collect every line: what the
    // harness kept in memory, and the complete log files.
    await mesh.group.stopAll(5_000);
    for (const proc of [cp.proc, ...sidecars.map((s) => s.proc)]) outputs.push({ where: `lines of ${proc.name}`, text: proc.lines().map((l) => l.text).join('\n') });
    for (const log of await readTree(logDir)) outputs.push({ where: `log ${path.basename(log.file)}`, text: log.text });

    // What must not appear: every key in the data directory and the operator key, in pieces.
    const keyFiles = (await readTree(cp.dataDir)).filter((f) => keyFragments(f.text).length > 0);
    const secrets = [...keyFragments(config['privateKeyPem'] ?? ''), ...keyFiles.flatMap((f) => keyFragments(f.text))];
    expect(keyFiles.map((f) => path.basename(f.file)), 'the CA key and the operator config should be among the key files').to.include.members(['weftctl.json', 'ca-key.pem']);
    expect(secrets.length).to.be.greaterThanOrEqual(6);
    // The token's secret, too: it was printed once, by token create, and must appear nowhere else.
    const tokenSecret = ordersToken.split('.')[3] as string;
    expect(tokenSecret.length).to.be.greaterThan(20);

    expect(outputs.filter((o) => o.where.startsWith('log ')).length, 'the control plane and both sidecars wrote logs').to.be.greaterThanOrEqual(3);
    const leaks: string[] = [];
    for (const o of outputs) {
      if (/PRIVATE KEY/.test(o.text)) leaks.push(`${o.where}: "PRIVATE KEY"`);
      for (const s of secrets) if (o.text.includes(s)) leaks.push(`${o.where}: a piece of a private key (${s.slice(0, 8)}...)`);
      if (o.where !== 'weftctl token create (stdout)' && o.text.includes(tokenSecret)) leaks.push(`${o.where}: the join token's secret`);
      if (o.text.includes('Wrong0Secret')) leaks.push(`${o.where}: a wrong join token secret`);
    }
    expect(leaks).to.deep.equal([]);
    // The refusals were logged, by token id.
    const audit = cp.proc.lines().flatMap((l) => (l.json?.['msg'] === 'refused' ? [[l.json['reason'], l.json['tokenId']]] : []));
    const tokenId = ordersToken.split('.')[2] as string;
    expect(audit).to.deep.include.members([['WEFT_ERR_IDENTITY_MISMATCH', tokenId], ['WEFT_ERR_TOKEN_INVALID', tokenId]]);
    // The search itself works: the same scan flags the file it took the keys from.
    const planted = await fs.readFile(cp.configPath, 'utf8');
    expect(secrets.some((s) => planted.includes(s)) && /PRIVATE KEY/.test(planted)).to.equal(true);
  });
});
