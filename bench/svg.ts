/**
 * The SVG pieces the figures share (bench/chart.ts, bench/soak-chart.ts, dashboards/render.ts): the page with
 * its title, a grid of small-multiple panels, a "nice" scale top and text escaping. Rasterised by chart.ts's writePng.
 */

/** Text content for SVG: `&` and `<` are the characters that would end it. */
export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** 1, 2 or 5 × 10ⁿ at or above v: a scale top a reader can halve in their head. */
export function niceCeil(v: number): number {
  const e = 10 ** Math.floor(Math.log10(Math.max(v, 1e-9)));
  return ([1, 2, 5, 10].find((f) => f * e >= v) ?? 10) * e;
}

/** A white page of width × height with a centred title and, under it, an optional grey subtitle. */
export function svgPage(width: number, height: number, title: string, subtitle: string | undefined, body: readonly string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="28" font-size="18" text-anchor="middle">${esc(title)}</text>`,
    ...(subtitle === undefined ? [] : [`<text x="${width / 2}" y="48" font-size="12" text-anchor="middle" fill="#555">${esc(subtitle)}</text>`]),
    ...body,
    '</svg>',
  ].join('\n');
}

/** Small multiples: `cols` panels a row, each panelW × panelH, from (left, top), gapX / gapY between them. */
export interface Grid {
  cols: number;
  left: number;
  top: number;
  panelW: number;
  panelH: number;
  gapX: number;
  gapY: number;
}

/** The top-left corner of panel i, row by row. */
export const cell = (g: Grid, i: number): { x0: number; y0: number } => ({
  x0: g.left + (i % g.cols) * (g.panelW + g.gapX),
  y0: g.top + Math.floor(i / g.cols) * (g.panelH + g.gapY),
});

/** The page height that holds n panels, with `bottom` below the last row. */
export const gridHeight = (g: Grid, n: number, bottom: number): number => g.top + Math.ceil(n / g.cols) * (g.panelH + g.gapY) + bottom;

/** A width that fills the page between the grid's left margin and `right`. */
export const panelWidth = (pageW: number, right: number, g: Omit<Grid, 'panelW'>): number => (pageW - g.left - right - g.gapX * (g.cols - 1)) / g.cols;
