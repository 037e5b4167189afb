import { ValidationError, type ValidationIssue } from './errors';
import type { SourcedDocument } from './validate';

/**
 * Splits YAML (or JSON, which is YAML) text into documents. Syntax errors are reported with the
 * file, the document and the line, and the whole file is rejected: a half-read file is never
 * applied.
 */
export function parseDocuments(text: string, source: string): SourcedDocument[] {
  // Loaded here, not at the top: @weft/api is also the sidecar's, and a sidecar reads no YAML
  // (its policy arrives as JSON), so it never pays for the parser (72 modules).
  const { parseAllDocuments } = require('yaml') as typeof import('yaml');
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const issues: ValidationIssue[] = [];
  const out: SourcedDocument[] = [];
  let index = 0;
  for (const doc of list) {
    index += 1;
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const line = err.linePos?.[0];
        const where = line ? `line ${line.line}, column ${line.col}` : 'syntax';
        issues.push({ source, document: index, path: '', message: `invalid YAML at ${where}: ${firstLine(err.message)}` });
      }
      continue;
    }
    const value: unknown = doc.toJS();
    // An empty document (a trailing `---`, a comment-only block) carries nothing to apply.
    if (value === null || value === undefined) continue;
    out.push({ source, document: index, value });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return out;
}

/** The yaml library repeats the position and a code frame after the first line; we give our own. */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}
