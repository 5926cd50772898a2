/** The fuzz's pass rules and its printed report (shared by `npm run fuzz` and the test slice). */
import type { FuzzReport } from './runFuzz';

/** The fuzz sends bodies and frames up to ~2 MB; the server may hold a few at once, not more. */
export const MAX_RSS_GROWTH_MB = 256;
/** A bystander room's echo (100 ms apart) must stay interactive while the fuzz runs (or within
 * 3× its own p99 before the fuzz, on a machine busy with other work). */
export const MAX_BYSTANDER_P99_MS = 250;

/** What failed, by the rules above; empty when the server held. */
export function verdict(r: FuzzReport, wanted: number, bystanderP99Ms = MAX_BYSTANDER_P99_MS): string[] {
  const bad: string[] = [];
  if (!r.healthyAtEnd) bad.push('the server did not answer /healthz at the end');
  if (r.unnamed > 0) bad.push(`${r.unnamed} answers were not named errors`);
  if (r.rssMaxMb - r.rssStartMb > MAX_RSS_GROWTH_MB) bad.push(`RSS grew by ${(r.rssMaxMb - r.rssStartMb).toFixed(0)} MB`);
  // On a machine busy with other work the baseline itself is slow: the bound follows it.
  const bound = Math.max(bystanderP99Ms, 3 * r.bystander.baselineP99Ms);
  if (!(r.bystander.p99Ms < bound)) bad.push(`bystander p99 ${r.bystander.p99Ms.toFixed(1)} ms (bound ${bound.toFixed(0)} ms)`);
  if (r.bystander.lost > 0) bad.push(`bystander lost ${r.bystander.lost} echoes`);
  if (r.total < wanted) bad.push(`only ${r.total} of ${wanted} messages sent`);
  return bad;
}

export function formatReport(r: FuzzReport, seed: number): string {
  const lines = [
    `Tandem fuzz: ${r.total} messages in ${r.seconds.toFixed(1)} s (seed ${seed})`,
    `sent by kind: ${Object.entries(r.byKind).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    `server RSS: ${r.rssStartMb.toFixed(0)} MB at start, ${r.rssMaxMb.toFixed(0)} MB max, ${r.rssEndMb.toFixed(0)} MB at end`,
    `bystander echo: p50 ${r.bystander.baselineP50Ms.toFixed(1)} / p99 ${r.bystander.baselineP99Ms.toFixed(1)} ms before, ` +
      `p50 ${r.bystander.p50Ms.toFixed(1)} / p99 ${r.bystander.p99Ms.toFixed(1)} / max ${r.bystander.maxMs.toFixed(1)} ms during, ${r.bystander.lost} lost`,
    `healthy at end: ${r.healthyAtEnd}; unnamed answers: ${r.unnamed}`,
    '',
    'answers:',
    ...Object.entries(r.outcomes).map(([k, n]) => `  ${String(n).padStart(7)}  ${k}`),
  ];
  if (r.unnamedExamples.length) lines.push('', 'unnamed (first ones):', ...r.unnamedExamples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

