/**
 * bench/results/latency.png: p50 and p99 at one client, per operation and path, on a log scale (the
 * paths span a driver round trip to a TLS + token round trip). Drawn as SVG and rasterised by resvg
 * (prebuilt, no native build, no browser), with the system's fonts.
 */
import { writeFileSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import { OPERATIONS, type Operation } from './operations.ts';
import type { BenchPath, PathId } from './paths.ts';
import type { Summary } from './stats.ts';
import { esc, svgPage } from './svg.ts';

const W = 1200,
  H = 520,
  TOP = 60,
  BOTTOM = 110,
  LEFT = 70,
  GAP = 30;
const COLORS: Record<PathId, string> = {
  driver: '#7f7f7f',
  'direct-http': '#1f77b4',
  'direct-stdio': '#17becf',
  secure: '#2ca02c',
  'official-http': '#d62728',
  'official-stdio': '#ff9896',
};

export function latencySvg(paths: BenchPath[], get: (p: PathId, op: Operation, c: number) => Summary | undefined, title: string): string {
  const values = paths
    .flatMap((p) => OPERATIONS.flatMap((op) => [get(p.id, op, 1)?.p50, get(p.id, op, 1)?.p99]))
    .filter((v): v is number => v !== undefined && v > 0);
  const lo = Math.floor(Math.log10(Math.min(...values, 1))),
    hi = Math.ceil(Math.log10(Math.max(...values, 10)));
  const plotH = H - TOP - BOTTOM;
  const y = (v: number) => TOP + plotH - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * plotH;
  const panelW = (W - LEFT - 20 - GAP * (OPERATIONS.length - 1)) / OPERATIONS.length;
  const out: string[] = [];
  for (let e = lo; e <= hi; e++) {
    out.push(`<line x1="${LEFT}" x2="${W - 20}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" stroke="#ddd"/>`);
    out.push(`<text x="${LEFT - 8}" y="${y(10 ** e) + 4}" font-size="12" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)} ms</text>`);
  }
  OPERATIONS.forEach((op, i) => {
    const x0 = LEFT + i * (panelW + GAP);
    const slot = panelW / paths.length;
    out.push(`<text x="${x0 + panelW / 2}" y="${TOP - 12}" font-size="15" text-anchor="middle">${esc(op)}</text>`);
    paths.forEach((p, j) => {
      const s = get(p.id, op, 1);
      const bx = x0 + j * slot + slot * 0.15,
        bw = slot * 0.7;
      if (s && Number.isFinite(s.p99)) {
        out.push(`<rect x="${bx}" y="${y(s.p99)}" width="${bw}" height="${TOP + plotH - y(s.p99)}" fill="${COLORS[p.id]}" opacity="0.35"/>`);
        out.push(`<rect x="${bx}" y="${y(s.p50)}" width="${bw}" height="${TOP + plotH - y(s.p50)}" fill="${COLORS[p.id]}"/>`);
        out.push(`<text x="${bx + bw / 2}" y="${y(s.p50) - 3}" font-size="10" text-anchor="middle">${s.p50 < 10 ? s.p50.toFixed(1) : s.p50.toFixed(0)}</text>`);
      }
      const lx = bx + bw / 2,
        ly = TOP + plotH + 10;
      out.push(`<text x="${lx}" y="${ly}" font-size="11" text-anchor="end" transform="rotate(-40 ${lx} ${ly})">${esc(p.id)}</text>`);
    });
  });
  out.push(`<text x="${LEFT}" y="${H - 12}" font-size="12">solid: p50, light: p99 — one client, log scale, number = p50 in ms</text>`);
  return svgPage(W, H, title, undefined, out);
}

export function writePng(svg: string, file: string): void {
  const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, fitTo: { mode: 'width', value: W } }).render().asPng();
  writeFileSync(file, png);
}
