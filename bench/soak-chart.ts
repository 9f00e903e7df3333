/**
 * The soak's RSS over time as small multiples: one panel per tier, each with its own scale from 0 (Keycloak's JVM
 * is ten times the size of a Node tier; on one axis the small tiers would look flat whatever they did). The
 * warm-up is shaded; the text under each panel gives start, once warm and end. Rasterised like bench/chart.ts.
 */
import type { RssSample, TierTrend } from './soak-rss.ts';
import { cell, esc, gridHeight, niceCeil, panelWidth, svgPage, type Grid } from './svg.ts';

const W = 1200;
const SPACING = { cols: 3, left: 50, top: 70, panelH: 220, gapX: 40, gapY: 60 };
const GRID: Grid = { ...SPACING, panelW: panelWidth(W, 20, SPACING) };

export function rssSvg(samples: RssSample[], trend: TierTrend[], title: string, warmupFraction = 0.2): string {
  const tiers = trend.map((t) => t.tier);
  const { panelW, panelH } = GRID;
  const tMax = Math.max(1, samples.at(-1)?.t ?? 1);
  const span = tMax >= 180 ? `${(tMax / 60).toFixed(1)} min` : `${tMax.toFixed(0)} s`;
  const out: string[] = [];
  tiers.forEach((tier, i) => {
    const { x0, y0 } = cell(GRID, i);
    const tr = trend[i]!;
    const yMax = niceCeil(tr.maxMiB * 1.15);
    const x = (t: number) => x0 + (t / tMax) * panelW;
    const y = (v: number) => y0 + panelH - (v / yMax) * panelH;
    out.push(`<rect x="${x0}" y="${y0}" width="${panelW * warmupFraction}" height="${panelH}" fill="#f0f0f0"/>`);
    out.push(`<rect x="${x0}" y="${y0}" width="${panelW}" height="${panelH}" fill="none" stroke="#999"/>`);
    for (const v of [0, yMax / 2, yMax]) {
      out.push(`<text x="${x0 - 6}" y="${y(v) + 4}" font-size="10" text-anchor="end">${v.toFixed(0)}</text>`);
      if (v > 0) out.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${y(v)}" y2="${y(v)}" stroke="#e4e4e4"/>`);
    }
    const points = samples.map((s) => `${x(s.t).toFixed(1)},${y(s.mib[tier] ?? 0).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${points}" fill="none" stroke="#1f77b4" stroke-width="1.6"/>`);
    out.push(`<text x="${x0 + panelW / 2}" y="${y0 - 8}" font-size="14" text-anchor="middle">${esc(tier)}</text>`);
    out.push(
      `<text x="${x0 + panelW / 2}" y="${y0 + panelH + 18}" font-size="11" text-anchor="middle">start ${tr.startMiB} · warm ${tr.afterWarmupMiB} · end ${tr.endMiB} MiB (${tr.growthMiB >= 0 ? '+' : ''}${tr.growthMiB} MiB, ${tr.growthPct >= 0 ? '+' : ''}${tr.growthPct} %)</text>`,
    );
    out.push(`<text x="${x0 + panelW}" y="${y0 + panelH + 32}" font-size="9" text-anchor="end" fill="#777">${span}</text>`);
  });
  const subtitle = `RSS per tier (process group, MiB) over ${span}; shaded: warm-up (first ${warmupFraction * 100} %)`;
  return svgPage(W, gridHeight(GRID, tiers.length, 20), title, subtitle, out);
}
