/** What the load tools (bench, fuzz, soak) share as command-line programs. */
import { killChildren } from './child';

/** `--flag N` options into `defaults` (numbers only); `--help` prints `usage` and exits. */
export function numericArgs<T extends Record<string, number>>(argv: string[], defaults: T, flags: Record<string, keyof T>, usage: string): T {
  const o = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      process.stdout.write(`usage: ${usage}\n`);
      process.exit(0);
    }
    const key = flags[a];
    if (key === undefined) throw new Error(`unknown argument ${a}`);
    const v = Number(argv[++i]);
    if (!Number.isFinite(v)) throw new Error(`${a} needs a number`);
    (o as Record<string, number>)[key as string] = v;
  }
  return o;
}

/**
 * Runs `main` as the whole program: its server children are stopped however it ends (signal,
 * error, the watchdog after `watchdogMs`), and the exit code is `process.exitCode` (1 on a throw).
 */
export function runMain(name: string, main: () => Promise<void>, watchdogMs: number, onFailure: () => string = () => ''): void {
  process.on('exit', killChildren);
  const watchdog = setTimeout(() => {
    process.stderr.write(`${name}: gave up after ${Math.round(watchdogMs / 1000)} s\n`);
    killChildren();
    process.exit(1);
  }, watchdogMs);
  watchdog.unref();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(sig, () => {
      process.stderr.write(`${name}: ${sig}, stopping\n`);
      killChildren();
      process.exit(130);
    });
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (err) => {
      process.stderr.write(`${name} failed: ${err instanceof Error ? err.stack : String(err)}\n${onFailure()}`);
      killChildren();
      process.exit(1);
    },
  );
}
