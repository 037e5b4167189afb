import { expect } from 'chai';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Mesh } from '@weft/harness';
import { CONTROL_PLANE_MAX_MESSAGE_BYTES } from '@weft/api';
import { API } from './fixtures';

const GOOD_ROUTE = `${API}\nkind: Route\nmetadata: {name: orders}\nspec: {service: orders, rules: [{timeout: 2s}]}\n`;

describe('bad policy is rejected with an actionable message, and nothing is stored', function () {
  this.timeout(60_000);
  const mesh = new Mesh();
  let dir: string;

  async function file(name: string, text: string): Promise<string> {
    const p = path.join(dir, name);
    await fs.writeFile(p, text);
    return p;
  }

  async function storedRoutes(): Promise<string[]> {
    const out = await mesh.weftctl(['get', 'routes', '-A', '-o', 'json']);
    expect(out.code, out.stderr).to.equal(0);
    return (JSON.parse(out.stdout) as { metadata: { name: string } }[]).map((r) => r.metadata.name);
  }

  before(async () => {
    await mesh.startControlPlane();
    dir = await mesh.tempDir('policy');
  });

  after(() => mesh.close());

  it('rejects a YAML syntax error with file, document and line, applying no document of the file', async () => {
    const f = await file('routes.yaml', `${GOOD_ROUTE}---\nkind: Route\nmetadata: {name: [broken\n`);
    const out = await mesh.weftctl(['apply', '-f', f]);
    expect(out.code).to.equal(1);
    expect(out.stderr).to.match(/routes\.yaml: document 2: invalid YAML at line \d+, column \d+: /);
    expect(out.stdout).to.equal('');
    expect(await storedRoutes()).to.deep.equal([]);
  });

  it('rejects a schema violation naming file, document, resource and field path, applying nothing', async () => {
    const f = await file('routes.yaml', `${GOOD_ROUTE}---\n${API}\nkind: Route\nmetadata: {name: reviews}\nspec:\n  service: reviews\n  rules:\n  - retries: {attempts: -1}\n`);
    const out = await mesh.weftctl(['apply', '-f', f]);
    expect(out.code).to.equal(1);
    expect(out.stderr).to.include('routes.yaml: document 2: Route reviews: spec.rules[0].retries.attempts: must be >= 0');
    expect(await storedRoutes()).to.deep.equal([]);
  });

  it('lists every problem of a multi-document file at once', async () => {
    const f = await file('many.yaml', `${API}\nkind: Route\nmetadata: {name: a}\nspec: {service: a, rules: [{timeout: soon}]}\n---\n${API}\nkind: ServicePolicy\nmetadata: {name: b}\nspec: {service: b, loadBalancer: {algorithm: fastest}}\n`);
    const out = await mesh.weftctl(['apply', '-f', f]);
    expect(out.code).to.equal(1);
    expect(out.stderr).to.include('many.yaml: document 1: Route a: spec.rules[0].timeout: must be a positive duration');
    expect(out.stderr).to.include('many.yaml: document 2: ServicePolicy b: spec.loadBalancer.algorithm: must be one of "round-robin", "least-request", "random", "ring-hash"');
  });

  it('rejects a change of the trust domain, which is fixed when the control plane first starts', async () => {
    const f = await file('mesh.yaml', `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {trustDomain: other.example}\n`);
    const out = await mesh.weftctl(['apply', '-f', f]);
    expect(out.code).to.equal(1);
    expect(out.stderr).to.match(/mesh\.yaml: document 1: MeshConfig default: spec\.trustDomain: .*weft\.local/);
    const mc = await mesh.weftctl(['get', 'meshconfig', '-o', 'json']);
    expect(mc.stdout).to.not.include('other.example');
  });

  it('validates without storing on --dry-run, then stores on a real apply', async () => {
    const f = await file('good.yaml', GOOD_ROUTE);
    const dry = await mesh.weftctl(['apply', '-f', f, '--dry-run']);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.match(/orders created \(dry run\)/);
    expect(await storedRoutes()).to.deep.equal([]);
    const real = await mesh.weftctl(['apply', '-f', f]);
    expect(real.code, real.stderr).to.equal(0);
    expect(await storedRoutes()).to.deep.equal(['orders']);
    const again = await mesh.weftctl(['apply', '-f', f]);
    expect(again.stdout).to.match(/orders unchanged/);
  });

  it('deletes, and says clearly when there is nothing to delete', async () => {
    expect((await mesh.weftctl(['delete', 'route', 'orders'])).code).to.equal(0);
    expect(await storedRoutes()).to.deep.equal([]);
    const missing = await mesh.weftctl(['delete', 'route', 'orders']);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/Route default\/orders not found/);
  });
  describe('an apply over the control plane\'s message limit', () => {
    /** A valid first document, then padding, then a YAML error past the limit. */
    const oversized = (bytes: number): string => {
      const padding = `# ${'x'.repeat(98)}\n`.repeat(Math.ceil(bytes / 101));
      return `${GOOD_ROUTE}${padding}---\nkind: Route\nmetadata: {name: [broken\n`;
    };
    const limit = `${CONTROL_PLANE_MAX_MESSAGE_BYTES / (1024 * 1024)} MiB`;

    it('is refused before the file is read: the message gives the size and the limit, not the YAML error past it', async () => {
      const f = await file('huge.yaml', oversized(20 * 1024 * 1024));
      const out = await mesh.weftctl(['apply', '-f', f]);
      expect(out.code).to.equal(1);
      expect(out.stderr).to.equal(
        `error: ${f} is 20.0 MiB, over the ${limit} the control plane accepts in one apply: split the resources into several files and apply each with its own \`weftctl apply -f\` (nothing was applied)\n`,
      );
      expect(await storedRoutes()).to.deep.equal([]);
    });

    it('is refused while stdin is read, without reading it all', async () => {
      const out = await mesh.weftctl(['apply', '-f', '-'], { input: oversized(CONTROL_PLANE_MAX_MESSAGE_BYTES + 1024 * 1024) });
      expect(out.code).to.equal(1);
      expect(out.stderr).to.contain(`error: stdin is over ${limit}, over the ${limit} the control plane accepts in one apply: split the resources`).and.not.contain('invalid YAML');
      expect(await storedRoutes()).to.deep.equal([]);
    });

    it('counts every file of one apply together', async () => {
      const third = Math.floor(CONTROL_PLANE_MAX_MESSAGE_BYTES / 3);
      const files = await Promise.all(['a', 'b', 'c', 'd'].map((n) => file(`${n}.yaml`, `# ${'x'.repeat(third - 3)}\n`)));
      const out = await mesh.weftctl(['apply', ...files.flatMap((f) => ['-f', f])]);
      expect(out.code).to.equal(1);
      expect(out.stderr).to.match(new RegExp(`^error: ${files[3]} and the files before it together is \\d+(\\.\\d)? MiB, over the ${limit} `));
    });

    it('is refused before sending when the YAML fits but the request would not (JSON escapes grow it)', async () => {
      // Backslashes are one byte in a single-quoted YAML string and two in JSON.
      const value = '\\'.repeat(Math.ceil(CONTROL_PLANE_MAX_MESSAGE_BYTES * 0.6));
      const f = await file('escapes.yaml', `${API}\nkind: Route\nmetadata: {name: orders}\nspec: {service: orders, rules: [{match: [{headers: [{name: x-a, exact: '${value}'}]}]}]}\n`);
      const out = await mesh.weftctl(['apply', '-f', f]);
      expect(out.code).to.equal(1);
      expect(out.stderr).to.match(new RegExp(`^error: the Apply request is \\d+(\\.\\d)? MiB, over the ${limit} the control plane accepts in one request: split the resources`));
      expect(await storedRoutes()).to.deep.equal([]);
    });
  });
});
