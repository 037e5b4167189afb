import { ValidationError, weftVersion } from '@weft/api';
import { connectAdmin, type AdminApi } from './admin-client';
import { parseArgs } from './args';
import { loadClientConfig, type LoadedConfig } from './client-config';
import type { Command, CommandContext, Connection } from './commands/command';
import { COMMANDS } from './commands/index';
import { CliError, EXIT, UsageError } from './errors';
import { commandHelp, GLOBAL_FLAGS, TOOL_FLAGS, toolHelp } from './help';
import { processIo, type Io } from './io';

export interface RunOptions {
  /** Replaces the gRPC client (tests). */
  readonly connect?: (config: LoadedConfig) => AdminApi;
}

/** Commands named by two words (`token create`, `ca status`, `proxy remove`): the first word of each. */
const GROUPS = new Set(['token', 'ca', 'proxy', 'auth']);

interface Selection {
  readonly command: Command | undefined;
  /** Every argument except the words naming the command. */
  readonly rest: readonly string[];
  /** The words the operator typed, for error messages when they name no command. */
  readonly words: readonly string[];
}

/**
 * Finds the command words (`get`, `token create`) among the arguments, skipping global flags and
 * their values, so `weftctl --config f get routes` and `weftctl get routes --config f` both work.
 */
function selectCommand(argv: readonly string[]): Selection {
  const rest = [...argv];
  const words: string[] = [];
  for (let i = 0; i < rest.length && words.length < 2; ) {
    const token = rest[i] as string;
    if (token === '--config') i += 2;
    else if (token.startsWith('-')) i += 1;
    else {
      words.push(token);
      rest.splice(i, 1);
      // Only a group takes a second word; every other command's next word is its own argument.
      if (!GROUPS.has(token)) break;
    }
  }
  const name = words.join(' ');
  const command = COMMANDS.find((c) => c.name === name);
  if (!command && words.length === 2) {
    // The second word named no command of the group: give it back, so the error can name it.
    rest.unshift(words[1] as string);
  }
  return { command, rest, words };
}

function report(err: unknown, io: Io): number {
  if (err instanceof UsageError) {
    const help = err.command ? `weftctl ${err.command} --help` : 'weftctl --help';
    io.stderr(`error: ${err.message}\nRun '${help}' for usage.\n`);
    return EXIT.usage;
  }
  if (err instanceof ValidationError || (err instanceof CliError && err.plain)) {
    io.stderr(`${err.message}\n`);
    return EXIT.failed;
  }
  io.stderr(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  return EXIT.failed;
}

/** Runs one weftctl invocation and resolves to its exit code. Never throws. */
export async function run(argv: readonly string[], io: Io = processIo(), options: RunOptions = {}): Promise<number> {
  let connection: Connection | undefined;
  try {
    const { command, rest, words } = selectCommand(argv);
    const wantsHelp = rest.includes('--help') || rest.includes('-h');
    if (!command) {
      if (words.length === 0) {
        // Validate global flags even here, so `weftctl --bogus` is a usage error.
        const tool = parseArgs(rest, [...GLOBAL_FLAGS, ...TOOL_FLAGS], '');
        if (tool.has('version') && !wantsHelp) {
          io.stdout(`weftctl ${weftVersion()}\n`);
          return EXIT.ok;
        }
        io.stdout(toolHelp(COMMANDS));
        return EXIT.ok;
      }
      const group = COMMANDS.filter((c) => c.name.startsWith(`${words[0]} `));
      if (group.length > 0 && wantsHelp) {
        // `weftctl token --help`: the group's commands, each with its own --help.
        io.stdout(group.length === 1 ? commandHelp(group[0] as Command) : toolHelp(group));
        return EXIT.ok;
      }
      if (group.length > 0) throw new UsageError(`unknown command "${words.join(' ')}": use one of ${group.map((c) => `"${c.name}"`).join(', ')}`);
      throw new UsageError(`unknown command "${words[0]}": use one of ${COMMANDS.map((c) => c.name).join(', ')}`);
    }
    if (wantsHelp) {
      io.stdout(commandHelp(command));
      return EXIT.ok;
    }
    const args = parseArgs(rest, [...command.flags, ...GLOBAL_FLAGS], command.name);
    const ctx: CommandContext = {
      io,
      connect: async () => {
        if (!connection) {
          const config = await loadClientConfig(args.string('config'), io);
          connection = { api: (options.connect ?? connectAdmin)(config), config };
        }
        return connection;
      },
    };
    return await command.run(ctx, args);
  } catch (err) {
    return report(err, io);
  } finally {
    connection?.api.close();
  }
}

/** Entry point of the `weftctl` binary. Sets the exit code rather than exiting, so output is flushed. */
export function main(argv: readonly string[]): void {
  // `weftctl get routes | head -1` closes the pipe early; that is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  void run(argv).then((code) => {
    process.exitCode = code;
  });
}
