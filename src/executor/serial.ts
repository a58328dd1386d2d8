/** `serial:` batch sizes (numbers, percentages, or a list of them; the last one repeats). */

export function batches(hosts: readonly string[], serial: unknown): string[][] {
  if (serial === undefined || serial === null || serial === 0 || serial === '0') return [hosts.slice()];
  const steps = (Array.isArray(serial) ? serial : [serial]).map((s) => sizeOf(s, hosts.length));
  const out: string[][] = [];
  let i = 0;
  let step = 0;
  while (i < hosts.length) {
    const size = steps[Math.min(step, steps.length - 1)]!;
    out.push(hosts.slice(i, i + size));
    i += size;
    step++;
  }
  return out;
}

function sizeOf(value: unknown, total: number): number {
  const text = String(value).trim();
  if (text.endsWith('%')) {
    const pct = Number(text.slice(0, -1));
    if (!Number.isFinite(pct) || pct <= 0) throw new Error(`serial: bad percentage "${text}"`);
    return Math.max(1, Math.floor((total * pct) / 100));
  }
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`serial: "${text}" is not a positive number or percentage`);
  return n;
}
