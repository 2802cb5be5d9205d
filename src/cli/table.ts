// Plain-text tables for the CLI's human output: a header row and data rows, columns as wide
// as their widest cell, two spaces apart, indented by two; text columns flush left and
// numeric columns (listed in `right`) flush right.

export interface TableOptions {
  /** indexes of the columns aligned right (numbers) */
  right?: readonly number[];
}

export function table(header: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const right = new Set(options.right ?? []);
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return all
    .map((row) => '  ' + widths.map((w, i) => (right.has(i) ? (row[i] ?? '').padStart(w) : (row[i] ?? '').padEnd(w))).join('  ').trimEnd())
    .join('\n');
}
