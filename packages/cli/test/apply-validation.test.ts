import { expect } from 'chai';
import { run } from '../src/main';
import { FAKE_CONFIG, fakeAdmin, memoryIo } from './memory-io';

const route = (name: string, attempts: number): string =>
  `apiVersion: weft.dev/v1alpha1\nkind: Route\nmetadata:\n  name: ${name}\nspec:\n  service: ${name}\n  rules:\n    - retries:\n        attempts: ${attempts}\n`;
const VALID = route('reviews', 2);

/**
 * Client-side validation: every case must fail with exactly these lines on stderr, exit 1, and
 * must never reach the server (the fake admin API records any call).
 */
describe('weftctl apply: client-side validation', () => {
  const cases: { name: string; files: Record<string, string>; argv: string[]; stdin?: string; stderr: string[] }[] = [
    {
      name: 'a bad field in the second document',
      files: { 'routes.yaml': `${VALID}---\n${route('reviews', -1).replace('name: reviews', 'name: ratings')}` },
      argv: ['-f', 'routes.yaml'],
      stderr: ['routes.yaml: document 2: Route ratings: spec.rules[0].retries.attempts: must be >= 0'],
    },
    {
      name: 'several problems in several files, in file order',
      files: {
        'a.yaml': 'apiVersion: weft.dev/v1alpha1\nkind: Route\nmetadata: {name: a}\nspec: {service: a, rules: [], colour: red}\n',
        'b.yaml': 'kind: Gateway\nmetadata: {name: b}\n',
      },
      argv: ['-f', 'b.yaml', '-f', 'a.yaml'],
      stderr: [
        'b.yaml: document 1: Gateway b: apiVersion: must be "weft.dev/v1alpha1"',
        'b.yaml: document 1: Gateway b: kind: must be one of MeshConfig, Route, ServicePolicy, AuthorizationPolicy',
        'a.yaml: document 1: Route a: spec.rules: must have at least 1 item',
        'a.yaml: document 1: Route a: spec.colour: unknown field (check its spelling and indentation)',
      ],
    },
    {
      name: 'a YAML syntax error',
      files: { 'bad.yaml': 'kind: Route\nmetadata: [unclosed\n' },
      argv: ['-f', 'bad.yaml'],
      stderr: ['bad.yaml: document 1: invalid YAML at line 3, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    },
    {
      name: 'the same resource twice across files',
      files: { 'one.yaml': VALID, 'two.yaml': VALID },
      argv: ['-f', 'one.yaml', '-f', 'two.yaml'],
      stderr: ['two.yaml: document 1: Route reviews: metadata.name: duplicates one.yaml: document 1 (each resource may appear once per apply)'],
    },
    {
      name: 'stdin, named "-"',
      files: {},
      argv: ['-f', '-'],
      stdin: route('reviews', 11),
      stderr: ['-: document 1: Route reviews: spec.rules[0].retries.attempts: must be <= 10'],
    },
    {
      name: 'a file with no documents',
      files: { 'empty.yaml': '# nothing here\n---\n' },
      argv: ['-f', 'empty.yaml'],
      stderr: ['error: no resources found in empty.yaml'],
    },
    {
      name: 'a missing file',
      files: {},
      argv: ['-f', 'missing.yaml'],
      stderr: ['error: cannot read missing.yaml: no such file'],
    },
  ];

  for (const c of cases) {
    it(`rejects ${c.name}`, async () => {
      const io = memoryIo({ ...c.files, '/c.json': FAKE_CONFIG }, c.stdin === undefined ? {} : { stdin: c.stdin });
      const admin = fakeAdmin();
      const code = await run(['apply', ...c.argv, '--config', '/c.json'], io, { connect: () => admin });
      expect(io.err).to.equal(c.stderr.map((l) => `${l}\n`).join(''));
      expect(code).to.equal(1);
      expect(io.out).to.equal('');
      expect(admin.calls).to.deep.equal([]);
    });
  }

  it('validates before looking for a configuration', async () => {
    const io = memoryIo({ 'r.yaml': route('r', -1) });
    expect(await run(['apply', '-f', 'r.yaml'], io)).to.equal(1);
    expect(io.err).to.equal('r.yaml: document 1: Route r: spec.rules[0].retries.attempts: must be >= 0\n');
  });

  const usage: [string[], string][] = [
    [[], 'apply needs at least one -f FILE (-f - reads stdin)'],
    [['-f', '-', '-f', '-'], '-f - (stdin) can be given only once'],
    [['routes.yaml'], 'unexpected argument "routes.yaml": apply -f FILE [-f FILE...] [--dry-run]'],
  ];
  for (const [argv, message] of usage) {
    it(`usage error: ${message}`, async () => {
      const io = memoryIo();
      expect(await run(['apply', ...argv], io)).to.equal(2);
      expect(io.err).to.equal(`error: ${message}\nRun 'weftctl apply --help' for usage.\n`);
    });
  }
});
