/** Plain-text tables for operator CLIs: left-aligned columns, two spaces apart, `-` for empty cells. */

export type Cell = string | number | boolean | null | undefined;

function show(c: Cell): string {
  if (c === null || c === undefined || c === '') return '-';
  return String(c);
}

/** Renders `rows` under `headers`; every row must have one cell per header. */
export function renderTable(headers: readonly string[], rows: ReadonlyArray<readonly Cell[]>): string {
  const cells = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => r.map(show))];
  const widths = headers.map((_h, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
