/**
 * The soak's RSS over time as small multiples: one panel per tier, each with its own scale from 0 (Keycloak's JVM
 * is ten times the size of a Node tier; on one axis the small tiers would look flat whatever they did). The
 * warm-up is shaded; the text under each panel gives start, once warm and end. Rasterised like bench/chart.ts.
 */
import type { RssSample, TierTrend } from './soak-rss.ts';

const W = 1200,
  COLS = 3,
  PANEL_H = 220,
  TOP = 70,
  GAP_X = 40,
  GAP_Y = 60,
  LEFT = 50;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function rssSvg(samples: RssSample[], trend: TierTrend[], title: string, warmupFraction = 0.2): string {
  const tiers = trend.map((t) => t.tier);
  const rows = Math.ceil(tiers.length / COLS);
  const H = TOP + rows * (PANEL_H + GAP_Y) + 20;
  const panelW = (W - LEFT - 20 - GAP_X * (COLS - 1)) / COLS;
  const tMax = Math.max(1, samples.at(-1)?.t ?? 1);
  const minutes = tMax >= 180;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  out.push(`<text x="${W / 2}" y="28" font-size="18" text-anchor="middle">${esc(title)}</text>`);
  out.push(
    `<text x="${W / 2}" y="50" font-size="12" text-anchor="middle" fill="#555">RSS per tier (process group, MiB) over ${minutes ? `${(tMax / 60).toFixed(1)} min` : `${tMax.toFixed(0)} s`}; shaded: warm-up (first ${warmupFraction * 100} %)</text>`,
  );
  tiers.forEach((tier, i) => {
    const x0 = LEFT + (i % COLS) * (panelW + GAP_X),
      y0 = TOP + Math.floor(i / COLS) * (PANEL_H + GAP_Y);
    const tr = trend[i]!;
    const yMax = niceCeil(tr.maxMiB * 1.15);
    const x = (t: number) => x0 + (t / tMax) * panelW;
    const y = (v: number) => y0 + PANEL_H - (v / yMax) * PANEL_H;
    out.push(`<rect x="${x0}" y="${y0}" width="${panelW * warmupFraction}" height="${PANEL_H}" fill="#f0f0f0"/>`);
    out.push(`<rect x="${x0}" y="${y0}" width="${panelW}" height="${PANEL_H}" fill="none" stroke="#999"/>`);
    for (const v of [0, yMax / 2, yMax]) {
      out.push(`<text x="${x0 - 6}" y="${y(v) + 4}" font-size="10" text-anchor="end">${v.toFixed(0)}</text>`);
      if (v > 0) out.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${y(v)}" y2="${y(v)}" stroke="#e4e4e4"/>`);
    }
    const points = samples.map((s) => `${x(s.t).toFixed(1)},${y(s.mib[tier] ?? 0).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${points}" fill="none" stroke="#1f77b4" stroke-width="1.6"/>`);
    out.push(`<text x="${x0 + panelW / 2}" y="${y0 - 8}" font-size="14" text-anchor="middle">${esc(tier)}</text>`);
    out.push(
      `<text x="${x0 + panelW / 2}" y="${y0 + PANEL_H + 18}" font-size="11" text-anchor="middle">start ${tr.startMiB} · warm ${tr.afterWarmupMiB} · end ${tr.endMiB} MiB (${tr.growthMiB >= 0 ? '+' : ''}${tr.growthMiB} MiB, ${tr.growthPct >= 0 ? '+' : ''}${tr.growthPct} %)</text>`,
    );
    out.push(
      `<text x="${x0 + panelW}" y="${y0 + PANEL_H + 32}" font-size="9" text-anchor="end" fill="#777">${minutes ? `${(tMax / 60).toFixed(1)} min` : `${tMax.toFixed(0)} s`}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}

/** 1, 2 or 5 × 10ⁿ at or above v. */
function niceCeil(v: number): number {
  const e = 10 ** Math.floor(Math.log10(Math.max(v, 1)));
  return ([1, 2, 5, 10].find((f) => f * e >= v) ?? 10) * e;
}
