/**
 * The bench's server children (scripts/bench/server.ts, floor.ts), forked with tsx and driven over
 * IPC (scripts/bench/ipc.ts). They share one DATA_DIR this process owns and removes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const children = new Set<ChildProcess>();
/** The Tandem child's DATA_DIR; this process owns it, so it is removed however the children end. */
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-bench-'));

/** SIGTERM: the children clean up and exit (they also exit when this process's IPC channel closes). */
export function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  children.clear();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

export class Child {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  private constructor(
    readonly name: string,
    readonly proc: ChildProcess,
    readonly port: number,
  ) {
    proc.on('message', (m: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      const p = m.id !== undefined ? this.pending.get(m.id) : undefined;
      if (!p) return;
      this.pending.delete(m.id!);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${name}: ${m.error}`));
    });
    proc.on('exit', (code, signal) => {
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`${name} exited (${signal ?? code})`));
      }
      this.pending.clear();
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static start(name: string, script: string): Promise<Child> {
    const proc = fork(path.join(ROOT, 'scripts', 'bench', script), [], {
      cwd: ROOT,
      // BENCH_CPU_PROF=DIR writes a V8 CPU profile of each server child there (for digging into a result).
      execArgv: ['--import', 'tsx', '--expose-gc', ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])],
      env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', BENCH_DATA_DIR: dataDir },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(proc);
    proc.on('exit', () => children.delete(proc));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s`)), 30_000);
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited during startup (${signal ?? code})`));
      });
      proc.on('message', (m: { type?: string; port?: number }) => {
        if (m.type !== 'ready') return;
        clearTimeout(timer);
        resolve(new Child(name, proc, m.port!));
      });
    });
  }

  call<T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${cmd} timed out`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.proc.send({ id, cmd, args });
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }
}

