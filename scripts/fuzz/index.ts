/**
 * `npm run fuzz [-- --messages 10000] [--seconds 300] [--seed N]`
 *
 * Fuzzes the real Tandem server, run in a child process (scripts/bench/server.ts, loopback, a
 * temporary DATA_DIR), with generated Socket.IO events, handshakes, truncated frames, Yjs frames and
 * HTTP requests (scripts/fuzz/generators.ts). Prints counts of what was sent and how each was
 * answered; exits 1 if the server died, any refusal was unnamed, its RSS grew past
 * MAX_RSS_GROWTH_MB, or the bystander room's echo latency went past MAX_BYSTANDER_P99_MS
 * (scripts/fuzz/report.ts).
 */
import { Child } from '../bench/child';
import { numericArgs, runMain } from '../bench/cli';
import type { MemoryReport } from '../bench/ipc';
import { runFuzz } from './runFuzz';
import { formatReport, verdict } from './report';

function parseArgs(argv: string[]) {
  const o = numericArgs(argv, { messages: 10_000, seconds: 1800, seed: Date.now() % 1_000_000 }, { '--messages': 'messages', '--seconds': 'seconds', '--seed': 'seed' }, 'npm run fuzz -- [--messages 10000] [--seconds 1800] [--seed N]');
  if (!(o.messages >= 1 && o.messages <= 1_000_000)) throw new Error('--messages must be 1..1000000');
  if (!(o.seconds >= 1 && o.seconds <= 3600)) throw new Error('--seconds must be 1..3600');
  return o;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const log = (s: string) => process.stderr.write(`fuzz: ${s}\n`);
  log('starting the Tandem server (child process, 127.0.0.1)');
  const child = await Child.start('tandem server', 'server.ts', { quiet: true });
  const fuzzRoom = await child.call<string>('createRoom', { name: 'fuzz' });
  const bystander = await child.call<string>('createRoom', { name: 'bystander' });
  const report = await runFuzz(
    {
      url: child.url,
      rooms: { fuzz: fuzzRoom, bystander },
      rss: async () => (await child.call<MemoryReport>('memory')).rss,
      alive: () => child.proc.exitCode === null && child.proc.signalCode === null,
    },
    { messages: o.messages, durationMs: o.seconds * 1000, seed: o.seed, log },
  );
  const died = child.proc.exitCode !== null || child.proc.signalCode !== null;
  await child.stop();
  process.stdout.write(formatReport(report, o.seed));
  if (died) process.stdout.write(`\nthe server exited (${child.proc.signalCode ?? child.proc.exitCode}); its last stderr lines:\n${Child.stderrTail.join('\n')}\n`);
  const bad = verdict(report, o.messages);
  process.stdout.write(bad.length ? `\nFAILED: ${bad.join('; ')}\n` : '\nThe server held.\n');
  process.exitCode = bad.length ? 1 : 0;
}

runMain('fuzz', main, 3_700_000, () => `the server's last stderr lines:\n${Child.stderrTail.join('\n')}\n`);
