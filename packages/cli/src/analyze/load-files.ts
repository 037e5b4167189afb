import { DEFAULT_NAMESPACE, isPolicyKind, KINDS, resourceKey, validateDocument, type SourcedDocument, type ValidationIssue } from '@weft/api';
import type { CommandContext } from '../commands/command';
import { CliError } from '../errors';
import { parseAndValidate } from '../validate-sources';
import { FINDINGS, type Finding, type Located } from './finding';

/** Far above any policy file; only stops a runaway pipe from filling memory. */
const MAX_INPUT_BYTES = 64 * 1024 * 1024;

export interface LoadedFiles {
  /** Resources that passed validation, first occurrence of each. */
  readonly resources: Located[];
  /** WA0001: every problem the schemas (and YAML parsing) found, as `weftctl apply` reports it. */
  readonly schemaFindings: Finding[];
}

/**
 * Reads, parses and validates the files with the same code `weftctl apply` and the admin API
 * use, but keeps going: a document that fails becomes a finding, the valid ones are analysed.
 */
export async function loadFiles(ctx: CommandContext, files: readonly string[]): Promise<LoadedFiles> {
  const sources = [];
  for (const file of files) sources.push({ file, text: await read(ctx, file) });
  const { docs, issues } = parseAndValidate(sources);
  const resources: Located[] = [];
  const seen = new Set<string>();
  for (const doc of docs) {
    const result = validateDocument(doc);
    if (!('resource' in result)) continue;
    const key = resourceKey(result.resource.kind, result.resource.metadata.namespace, result.resource.metadata.name);
    if (seen.has(key)) continue;
    seen.add(key);
    resources.push({ resource: result.resource, file: doc.source, document: doc.document });
  }
  return { resources, schemaFindings: issues.map((i) => schemaFinding(i, docs)) };
}

async function read(ctx: CommandContext, file: string): Promise<string> {
  try {
    return file === '-' ? await ctx.io.readStdin(MAX_INPUT_BYTES) : await ctx.io.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError('WEFT_ERR_READ', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)}`);
  }
}

function schemaFinding(issue: ValidationIssue, docs: readonly SourcedDocument[]): Finding {
  const { code, severity } = FINDINGS.SchemaInvalid;
  // `Kind name` as the validator names it, when the document got that far.
  const [kind = '', name = ''] = (issue.resource ?? '').split(' ', 2);
  const value = docs.find((d) => d.source === issue.source && d.document === issue.document)?.value as { metadata?: { namespace?: unknown } } | undefined;
  const given = typeof value?.metadata?.namespace === 'string' ? value.metadata.namespace : undefined;
  const namespace = isPolicyKind(kind) && KINDS[kind].namespaced ? (given ?? DEFAULT_NAMESPACE) : '';
  return { code, name: 'SchemaInvalid', severity, file: issue.source, document: issue.document, resource: { kind, namespace, name }, field: issue.path, message: issue.message };
}
