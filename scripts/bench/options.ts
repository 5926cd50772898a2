/** `npm run bench`'s command line: every option with its default and its bounds. */
export function parseArgs(argv: string[]) {
  const o = {
    json: '',
    guests: 500,
    messages: 200,
    warmup: 20,
    intervalMs: 10,
    rounds: 4,
    batch: 50,
    snapshotReps: 7,
    apiReps: 30,
    bootRuns: 1,
    fanoutSeconds: 10,
    fanoutKbPerSec: 1024,
    /** A fast typist's keystrokes are ≥ 60 ms apart. */
    echoIntervalMs: 60,
    net: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--json') o.json = v();
    else if (a === '--guests') o.guests = Number(v());
    else if (a === '--messages') o.messages = Number(v());
    else if (a === '--interval') o.intervalMs = Number(v());
    else if (a === '--rounds') o.rounds = Number(v());
    else if (a === '--boot-runs') o.bootRuns = Number(v());
    else if (a === '--no-net') o.net = false;
    else if (a === '--fanout-seconds') o.fanoutSeconds = Number(v());
    else if (a === '--fanout-kb-per-s') o.fanoutKbPerSec = Number(v());
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm run bench -- [--json FILE] [--guests 500] [--messages 200] [--interval 10] [--rounds 4] [--boot-runs 1] [--fanout-seconds 10] [--fanout-kb-per-s 1024]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!(o.guests >= 1 && o.guests <= 2000)) throw new Error('--guests must be 1..2000');
  if (!(o.messages >= 10 && o.messages <= 5000)) throw new Error('--messages must be 10..5000');
  if (!(o.rounds >= 1 && o.rounds <= 20)) throw new Error('--rounds must be 1..20');
  if (!(o.intervalMs >= 0 && o.intervalMs <= 1000)) throw new Error('--interval must be 0..1000 ms');
  if (!(o.fanoutSeconds >= 0 && o.fanoutSeconds <= 60)) throw new Error('--fanout-seconds must be 0..60 (0 skips the fan-out run)');
  if (!(o.fanoutKbPerSec >= 1 && o.fanoutKbPerSec <= 16 * 1024)) throw new Error('--fanout-kb-per-s must be 1..16384');
  return o;
}
