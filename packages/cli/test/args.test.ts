import { expect } from 'chai';
import { parseArgs, type FlagSpec } from '../src/args';
import { UsageError } from '../src/errors';

const SPECS: FlagSpec[] = [
  { name: 'file', short: 'f', value: 'FILE', multiple: true, description: '' },
  { name: 'namespace', short: 'n', value: 'NS', description: '' },
  { name: 'dry-run', description: '' },
];

describe('parseArgs', () => {
  const ok: { argv: string[]; positionals: string[]; flags: Record<string, string[]> }[] = [
    { argv: ['routes'], positionals: ['routes'], flags: {} },
    { argv: ['-f', 'a.yaml', '--file', 'b.yaml'], positionals: [], flags: { file: ['a.yaml', 'b.yaml'] } },
    { argv: ['-f', '-'], positionals: [], flags: { file: ['-'] } },
    { argv: ['--namespace=shop', 'x'], positionals: ['x'], flags: { namespace: ['shop'] } },
    { argv: ['-n=shop'], positionals: [], flags: { namespace: ['shop'] } },
    { argv: ['--dry-run', 'a', 'b'], positionals: ['a', 'b'], flags: { 'dry-run': ['true'] } },
    { argv: ['-n', '-weird-', 'x'], positionals: ['x'], flags: { namespace: ['-weird-'] } },
    { argv: ['--', '--not-a-flag', '-f'], positionals: ['--not-a-flag', '-f'], flags: {} },
    { argv: ['-'], positionals: ['-'], flags: {} },
  ];
  for (const c of ok) {
    it(`parses ${JSON.stringify(c.argv)}`, () => {
      const parsed = parseArgs(c.argv, SPECS, 'apply');
      expect(parsed.positionals).to.deep.equal(c.positionals);
      for (const spec of SPECS) expect(parsed.strings(spec.name), spec.name).to.deep.equal(c.flags[spec.name] ?? []);
    });
  }

  const bad: { argv: string[]; message: string }[] = [
    { argv: ['--bogus'], message: 'unknown flag: --bogus' },
    { argv: ['-x', 'y'], message: 'unknown flag: -x' },
    { argv: ['--bogus=1'], message: 'unknown flag: --bogus' },
    { argv: ['-f'], message: '-f needs a value (FILE)' },
    { argv: ['-n', 'a', '-n', 'b'], message: '--namespace given more than once' },
    { argv: ['--dry-run=yes'], message: '--dry-run does not take a value' },
  ];
  for (const c of bad) {
    it(`rejects ${JSON.stringify(c.argv)}: ${c.message}`, () => {
      expect(() => parseArgs(c.argv, SPECS, 'apply'))
        .to.throw(UsageError, c.message)
        .with.property('command', 'apply');
    });
  }
});
