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
import { Child, killChildren } from '../bench/child';
import type { MemoryReport } from '../bench/ipc';
import { runFuzz } from './runFuzz';
import { formatReport, verdict } from './report';

function parseArgs(argv: string[]) {
  const o = { messages: 10_000, seconds: 300, seed: Date.now() % 1_000_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => Number(argv[++i]);
    if (a === '--messages') o.messages = v();
    else if (a === '--seconds') o.seconds = v();
    else if (a === '--seed') o.seed = v();
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm run fuzz -- [--messages 10000] [--seconds 300] [--seed N]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
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

const watchdog = setTimeout(() => {
  process.stderr.write('fuzz: gave up after 3700 s\n');
  killChildren();
  process.exit(1);
}, 3_700_000);
watchdog.unref();
process.on('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.once(sig, () => {
    killChildren();
    process.exit(130);
  });

main().then(
    () => process.exit(process.exitCode ?? 0),
    (err) => {
      process.stderr.write(`fuzz failed: ${err instanceof Error ? err.stack : String(err)}\nthe server's last stderr lines:\n${Child.stderrTail.join('\n')}\n`);
      killChildren();
      process.exit(1);
    },
  );
