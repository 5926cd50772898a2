/** The bench's printed table, and how busy the rest of the machine was meanwhile. */
import fs from 'node:fs';

export interface Row {
  metric: string;
  value: number;
  unit: string;
  target?: string;
  ok?: boolean;
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  if (Math.abs(v) >= 0.1) return v.toFixed(2);
  return v.toFixed(4);
}

export function table(rows: Row[]): string {
  const head = ['metric', 'value', 'target', ''];
  const body = rows.map((r) => [r.metric, `${fmt(r.value)} ${r.unit}`.trim(), r.target ?? '', r.ok === undefined ? '' : r.ok ? 'ok' : 'MISSED']);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === 1 ? x.padStart(w[i]) : x.padEnd(w[i]))).join('  ').trimEnd();
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------- machine load

/** CPU time the whole machine spent busy (incl. steal), in ms; null where /proc/stat is absent. */
export function machineBusyMs(): number | null {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + (steal ?? 0)) * 10; // USER_HZ = 100 on Linux
  } catch {
    return null;
  }
}

export const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

