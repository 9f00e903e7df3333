/** Just enough of the Prometheus text format (prom-client's output) for the suites and the dashboard picture. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const s = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!s) continue;
    const labels: Record<string, string> = {};
    for (const l of (s[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
    out.push({ name: s[1] as string, labels, value: Number(s[3]) });
  }
  return out;
}

/** The sum of every sample of `name` whose labels include `match`. */
export function total(text: string, name: string, match: Record<string, string> = {}): number {
  return samples(text)
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

/** Sums of `name` grouped by one label. */
export function byLabel(text: string, name: string, label: string, match: Record<string, string> = {}): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples(text)) {
    if (s.name !== name || !Object.entries(match).every(([k, v]) => s.labels[k] === v)) continue;
    const key = s.labels[label] ?? '';
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}
