import { CONTROL_PLANE_MAX_MESSAGE_BYTES, ValidationError, type SourcedDocument, type ValidationIssue } from '@weft/api';
import type { ParsedArgs } from '../args';
import { CliError, EXIT } from '../errors';
import { InputTooLarge } from '../io';
import { mebibytes } from '../output/format';
import { parseAndValidate, type SourceText } from '../validate-sources';
import { resourceRef } from '../views/resource-table';
import type { Command, CommandContext } from './command';
import { expectPositionals, fileArgs, FILES_FLAG } from './shared-flags';

/** One apply is one gRPC message, so all of its files together must fit the control plane's limit. */
function tooLarge(file: string, err: InputTooLarge, earlier: number): CliError {
  const name = file === '-' ? 'stdin' : file;
  const size = err.exact ? `is ${mebibytes(err.bytes + earlier)}` : `is over ${mebibytes(err.bytes + earlier)}`;
  const what = earlier > 0 ? `${name} and the files before it together ${size}` : `${name} ${size}`;
  return new CliError(
    'WEFT_ERR_APPLY_TOO_LARGE',
    `${what}, over the ${mebibytes(CONTROL_PLANE_MAX_MESSAGE_BYTES)} the control plane accepts in one apply: split the resources into several files and apply each with its own \`weftctl apply -f\` (nothing was applied)`,
  );
}

/**
 * Reads one -f argument; `-` is stdin. A file that cannot be read fails the whole apply, and so
 * does one that would take the apply over the control plane's message limit: that is checked
 * before the file is read (its size) or while it is read (stdin), never after parsing it.
 */
async function readSource(ctx: CommandContext, file: string, earlier: number): Promise<string> {
  const budget = Math.max(0, CONTROL_PLANE_MAX_MESSAGE_BYTES - earlier);
  try {
    return file === '-' ? await ctx.io.readStdin(budget) : await ctx.io.readFile(file, budget);
  } catch (err) {
    if (err instanceof InputTooLarge) throw tooLarge(file, err, earlier);
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError('WEFT_ERR_READ', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)}`);
  }
}

/**
 * Parses and validates every file before anything is sent, and reports every problem in every
 * file at once (sorted by file, then document), so one run shows the operator all there is to fix.
 */
export async function loadDocuments(ctx: CommandContext, files: readonly string[]): Promise<SourcedDocument[]> {
  const sources: SourceText[] = [];
  let bytes = 0;
  for (const file of files) {
    const text = await readSource(ctx, file, bytes);
    bytes += Buffer.byteLength(text);
    sources.push({ file, text });
  }
  const { docs, issues } = parseAndValidate(sources);
  if (issues.length > 0) {
    const order = (i: ValidationIssue): number => files.indexOf(i.source);
    throw new ValidationError([...issues].sort((a, b) => order(a) - order(b) || a.document - b.document));
  }
  if (docs.length === 0) throw new CliError('WEFT_ERR_NOTHING_TO_APPLY', `no resources found in ${files.join(', ')}`);
  return docs;
}

export const applyCommand: Command = {
  name: 'apply',
  summary: 'create or update resources from YAML or JSON files',
  usage: 'apply -f FILE [-f FILE...] [--dry-run]',
  flags: [
    FILES_FLAG,
    { name: 'dry-run', description: 'validate on the control plane and show what would change, without storing anything' },
  ],
  details:
    'Every document is validated before anything is sent; one invalid document means nothing is applied.\n' +
    'The control plane stores all resources of one apply, or none.\n\n' +
    'Example:\n  weftctl apply -f deploy/examples/policy.yaml\n  cat routes.yaml | weftctl apply -f - --dry-run',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    expectPositionals(args, 0, 0, this.usage, this.name);
    const files = fileArgs(args, this.name);
    const dryRun = args.has('dry-run');

    const docs = await loadDocuments(ctx, files);
    const { api } = await ctx.connect();
    const response = await api.apply({
      documents: docs.map((d) => ({ source: d.source, index: d.document, json: JSON.stringify(d.value) })),
      dryRun,
    });
    const suffix = dryRun ? ' (dry run)' : '';
    for (const r of response.results) ctx.io.stdout(`${resourceRef(r.kind, r.name)} ${r.action}${suffix}\n`);
    return EXIT.ok;
  },
};
