import type { FlagSpec } from './args';
import type { Command } from './commands/command';

/** Flags every command accepts. */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'config', value: 'FILE', description: 'weftctl configuration (default: $WEFT_CONFIG, then ~/.weft/config.json)' },
  { name: 'help', short: 'h', description: 'show help' },
];

/** Flags of the tool itself, before any command. */
export const TOOL_FLAGS: readonly FlagSpec[] = [{ name: 'version', description: "print weftctl's version and exit (`weftctl version` also shows the control plane's)" }];

function flagLines(flags: readonly FlagSpec[]): string {
  const left = flags.map((f) => `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.value ? ` ${f.value}` : ''}`);
  const width = Math.max(...left.map((l) => l.length));
  return flags.map((f, i) => `  ${(left[i] as string).padEnd(width)}   ${f.description}\n`).join('');
}

const EXIT_CODES = 'Exit codes: 0 success, 1 the operation failed, 2 usage error.\n';

export function toolHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return (
    'weftctl: the Weft operator CLI\n\n' +
    'Usage:\n  weftctl [--config FILE] COMMAND [flags]\n\n' +
    'Commands:\n' +
    commands.map((c) => `  ${c.name.padEnd(width)}   ${c.summary}\n`).join('') +
    '\nGlobal flags:\n' +
    flagLines([...GLOBAL_FLAGS, ...TOOL_FLAGS]) +
    '\nThe configuration (endpoint, CA, operator certificate) is written by the control plane to\n' +
    '<data-dir>/weftctl.json when it starts.\n\n' +
    EXIT_CODES +
    "Run 'weftctl COMMAND --help' for a command's flags.\n"
  );
}

export function commandHelp(command: Command): string {
  return (
    `Usage:\n  weftctl ${command.usage}\n\n` +
    `${command.summary[0]?.toUpperCase()}${command.summary.slice(1)}.\n\n` +
    (command.flags.length > 0 ? `Flags:\n${flagLines(command.flags)}\n` : '') +
    `Global flags:\n${flagLines(GLOBAL_FLAGS)}` +
    (command.details ? `\n${command.details}\n` : '') +
    // A command whose exit codes mean more (analyze, check) says so in its details.
    (command.details?.includes('Exit codes:') ? '' : `\n${EXIT_CODES}`)
  );
}
