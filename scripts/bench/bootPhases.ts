/**
 * Where a room page's first prompt spends its time, read from the page's own timeline: navigation
 * timing, the marks the page leaves (lib/browser/vm/bootMarks.ts, the socket's first connect) and
 * resource timing (the boot snapshot's bytes, the engine files, the disk reads after a restore).
 */
import type { Page } from 'playwright-core';

export interface BootPhases {
  /** ms from navigation start of each point (absent when the page never got there). */
  at: Record<string, number>;
  snapshotGzBytes?: number;
  snapshotBytes?: number;
  snapshotFetchMs?: number;
  source?: string;
  /** Disk Range reads between the emulator's load and the prompt: what a restored VM reads first. */
  diskReadsAfterLoad: number;
  diskBytesAfterLoad: number;
}

/** Reads the phases of the page's boot (call once its prompt is on screen). */
export function bootPhases(page: Page): Promise<BootPhases> {
  return page.evaluate(() => {
    const at: Record<string, number> = {};
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    if (nav) {
      at.html = nav.responseEnd;
      at.dom_ready = nav.domContentLoadedEventEnd;
    }
    let source: string | undefined;
    let snapshotGzBytes: number | undefined;
    let snapshotBytes: number | undefined;
    for (const m of performance.getEntriesByType('mark') as PerformanceMark[]) {
      if (!m.name.startsWith('tandem:')) continue;
      const name = m.name.replace(/^tandem:(boot:)?/, '').replace(/[:-]/g, '_');
      at[name] ??= m.startTime;
      const d = m.detail as Record<string, unknown> | null;
      if (m.name === 'tandem:boot:state-chosen') source = String(d?.source);
      if (m.name === 'tandem:boot:trusted-unzipped') snapshotBytes = Number(d?.bytes);
    }
    const res = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    const path = (e: PerformanceResourceTiming) => new URL(e.name).pathname;
    const snap = res.find((e) => path(e).startsWith('/vm/boot-snapshot/'));
    if (snap) snapshotGzBytes = snap.encodedBodySize;
    for (const [key, file] of [['lib', '/vm/libv86.js'], ['wasm', '/vm/v86.wasm'], ['manifest', '/vm/manifest.json']] as const) {
      const e = res.find((x) => path(x) === file);
      if (e) at[`${key}_fetched`] = e.responseEnd;
    }
    const loaded = at.emulator_loaded ?? Infinity;
    const prompt = at.prompt ?? Infinity;
    const disk = res.filter((e) => path(e).startsWith('/vm/disk/') && e.startTime >= loaded && e.startTime <= prompt);
    return {
      at,
      source,
      snapshotGzBytes,
      snapshotBytes,
      snapshotFetchMs: snap ? snap.responseEnd - snap.startTime : undefined,
      diskReadsAfterLoad: disk.length,
      diskBytesAfterLoad: disk.reduce((n, e) => n + e.encodedBodySize, 0),
    };
  });
}

/** One line per phase, in the order they happened. */
export function formatBootPhases(p: BootPhases): string {
  const mb = (b?: number) => (b === undefined ? '?' : `${(b / 2 ** 20).toFixed(1)} MiB`);
  const lines = Object.entries(p.at)
    .sort((a, b) => a[1] - b[1])
    .map(([k, v]) => `  ${k.padEnd(22)} ${Math.round(v)} ms`);
  return [
    `first prompt phases (ms from navigation start; state restored from: ${p.source ?? '?'})`,
    ...lines,
    `  boot snapshot: ${mb(p.snapshotGzBytes)} gzip'd, ${mb(p.snapshotBytes)} unzipped, fetched in ${p.snapshotFetchMs === undefined ? '?' : Math.round(p.snapshotFetchMs)} ms`,
    `  disk reads between emulator load and prompt: ${p.diskReadsAfterLoad} (${(p.diskBytesAfterLoad / 1024).toFixed(0)} KiB)`,
  ].join('\n');
}
