import { DEFAULT_NAMESPACE, NAME_RE } from '@weft/api';
import type { FlagSpec, ParsedArgs } from '../args';
import { UsageError } from '../errors';

export const NAMESPACE_FLAG: FlagSpec = {
  name: 'namespace',
  short: 'n',
  value: 'NS',
  description: `namespace of the resource (default "${DEFAULT_NAMESPACE}")`,
};

export const ALL_NAMESPACES_FLAG: FlagSpec = { name: 'all-namespaces', short: 'A', description: 'list resources in every namespace' };

export function outputFlag(formats: readonly string[]): FlagSpec {
  return { name: 'output', short: 'o', value: 'FORMAT', description: `output format: ${formats.join(', ')} (default table)` };
}

/** Checks a name the operator typed (service, namespace) so a typo fails here, not on the server. */
export function checkName(value: string, what: string, command: string): string {
  if (!NAME_RE.test(value)) {
    throw new UsageError(`${what} "${value}" is not a valid name: lower-case letters, digits and "-", at most 63 characters`, command);
  }
  return value;
}

export function namespaceOf(args: ParsedArgs, command: string): string {
  return checkName(args.string('namespace') ?? DEFAULT_NAMESPACE, 'namespace', command);
}

export function expectPositionals(args: ParsedArgs, min: number, max: number, usage: string, command: string): readonly string[] {
  const n = args.positionals.length;
  if (n < min) throw new UsageError(`missing argument: ${usage}`, command);
  if (n > max) throw new UsageError(`unexpected argument "${args.positionals[max]}": ${usage}`, command);
  return args.positionals;
}

/** `-f FILE`, repeatable; `-` is stdin. */
export const FILES_FLAG: FlagSpec = { name: 'file', short: 'f', value: 'FILE', multiple: true, description: 'file with one or more resources; "-" reads stdin (repeatable)' };

/** The `-f` files: at least one, and stdin at most once. */
export function fileArgs(args: ParsedArgs, command: string): readonly string[] {
  const files = args.strings('file');
  if (files.length === 0) throw new UsageError(`${command} needs at least one -f FILE (-f - reads stdin)`, command);
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('-f - (stdin) can be given only once', command);
  return files;
}
