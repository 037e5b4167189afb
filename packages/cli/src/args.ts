import { UsageError } from './errors';

/** One flag a command accepts. A flag with a `value` placeholder takes an argument; others are switches. */
export interface FlagSpec {
  /** Long name without dashes: `namespace` is `--namespace`. */
  readonly name: string;
  /** One letter: `n` is `-n`. */
  readonly short?: string;
  /** Placeholder shown in help (`FILE`); absent for boolean switches. */
  readonly value?: string;
  /** May be given several times (`-f a.yaml -f b.yaml`). */
  readonly multiple?: boolean;
  readonly description: string;
}

export class ParsedArgs {
  readonly positionals: readonly string[];
  readonly #values: ReadonlyMap<string, readonly string[]>;

  constructor(positionals: readonly string[], values: ReadonlyMap<string, readonly string[]>) {
    this.positionals = positionals;
    this.#values = values;
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  string(name: string): string | undefined {
    return this.#values.get(name)?.[0];
  }

  strings(name: string): readonly string[] {
    return this.#values.get(name) ?? [];
  }
}

/**
 * Parses flags for one command: `--name value`, `--name=value`, `-n value`, switches, and `--` to
 * end flags. A value is taken verbatim even when it is `-` (stdin) or starts with a dash, as
 * kubectl does. Anything unknown is a UsageError naming the command, so the message can point at
 * the right --help.
 */
export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], command: string): ParsedArgs {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const positionals: string[] = [];
  const values = new Map<string, string[]>();

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (token === '-' || !token.startsWith('-')) {
      positionals.push(token);
      continue;
    }
    const eq = token.indexOf('=');
    const key = token.startsWith('--') ? token.slice(2, eq > 0 ? eq : undefined) : token.slice(1, eq > 0 ? eq : undefined);
    const spec = token.startsWith('--') ? byLong.get(key) : byShort.get(key);
    const shown = eq > 0 ? token.slice(0, eq) : token;
    if (!spec) throw new UsageError(`unknown flag: ${shown}`, command);

    let value: string;
    if (!spec.value) {
      if (eq > 0) throw new UsageError(`${shown} does not take a value`, command);
      value = 'true';
    } else if (eq > 0) {
      value = token.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`${shown} needs a value (${spec.value})`, command);
      value = next;
      i += 1;
    }
    const list = values.get(spec.name) ?? [];
    if (list.length > 0 && !spec.multiple) throw new UsageError(`--${spec.name} given more than once`, command);
    list.push(value);
    values.set(spec.name, list);
  }
  return new ParsedArgs(positionals, values);
}
