/** Space between columns, as kubectl prints them. */
const GAP = '   ';

/**
 * Renders rows as left-aligned columns under upper-case headers. Cells are single-line (newlines
 * become spaces) so a column never breaks; trailing spaces are trimmed.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const clean = (cell: string | undefined): string => (cell ?? '').replace(/\s*\n\s*/g, ' ');
  const all = [headers.map(clean), ...rows.map((row) => headers.map((_, i) => clean(row[i])))];
  const widths = headers.map((_, col) => Math.max(...all.map((row) => (row[col] as string).length)));
  return all
    .map((row) =>
      row
        .map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] as number)))
        .join(GAP)
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}
