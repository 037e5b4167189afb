import type { ParsedArgs } from '../args';
import { checkName, namespaceOf } from '../commands/shared-flags';

/** `inventory` (in -n NS, default `default`) or `inventory.shop`: the `service.namespace` sidecars report. */
export function serviceArg(value: string | undefined, args: ParsedArgs, command: string): string | undefined {
  if (value === undefined) return undefined;
  const dot = value.indexOf('.');
  if (dot < 0) return `${checkName(value, 'service', command)}.${namespaceOf(args, command)}`;
  return `${checkName(value.slice(0, dot), 'service', command)}.${checkName(value.slice(dot + 1), 'namespace', command)}`;
}
