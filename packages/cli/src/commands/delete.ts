import { KINDS, resolveKind } from '@weft/api';
import type { ParsedArgs } from '../args';
import { EXIT, UsageError } from '../errors';
import { resourceRef } from '../views/resource-table';
import type { Command, CommandContext } from './command';
import { NAMESPACE_FLAG, checkName, expectPositionals, namespaceOf } from './shared-flags';

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'delete one resource',
  usage: 'delete KIND NAME [-n NS]',
  flags: [NAMESPACE_FLAG],
  details: `KIND is one of ${Object.values(KINDS).map((k) => k.plural).join(', ')}.\n\nExample:\n  weftctl delete route reviews -n shop`,
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    const [kindText, nameText] = expectPositionals(args, 2, 2, this.usage, this.name);
    const kind = resolveKind(kindText as string);
    if (!kind) {
      throw new UsageError(`cannot delete "${kindText}": use one of ${Object.values(KINDS).map((k) => k.plural).join(', ')}`, this.name);
    }
    const name = checkName(nameText as string, 'name', this.name);
    const namespace = KINDS[kind].namespaced ? namespaceOf(args, this.name) : '';
    const { api } = await ctx.connect();
    await api.delete({ kind, namespace, name });
    ctx.io.stdout(`${resourceRef(kind, name)} deleted\n`);
    return EXIT.ok;
  },
};
