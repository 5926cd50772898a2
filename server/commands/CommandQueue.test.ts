import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { eq } from 'drizzle-orm';
import { openDb, type Db } from '../db';
import { commands, type CommandRow } from '../../drizzle/schema';
import type { HostStatus } from '../../lib/shared/protocol';
import type { RelayEvents } from '../relay/attachRelay';
import { RoomStore } from '../rooms/RoomStore';
import { FakeShell } from '../testing/FakeShell';
import { CommandQueue, type CommandCaps, type CommandHub } from './CommandQueue';
import { MAX_TYPED_LINE_CHARS } from './CommandRun';

const silent = pino({ level: 'silent' });

/** A hub whose hosts are FakeShells; their output arrives asynchronously, as over a socket. */
function fakeHub() {
  const events = new EventEmitter<RelayEvents>();
  const hosts = new Map<string, { phase: HostStatus['phase'] | null; typed: string[]; shell: FakeShell }>();
  const hub: CommandHub = {
    events,
    relay(room) {
      const h = hosts.get(room);
      if (!h) return undefined;
      return {
        hasHost: true,
        hostPhase: h.phase,
        injectInput: (_tab: string, data: string) => {
          h.typed.push(data);
          setImmediate(() => h.shell.input(data));
          return true;
        },
      };
    },
  };
  return {
    hub,
    events,
    /** A host whose shell prints its prompt (unless `quiet`, as a VM we joined mid-way). */
    connect(room: string, opts: { phase?: HostStatus['phase'] | null; quiet?: boolean; cols?: number } = {}) {
      const shell = new FakeShell((data) => setImmediate(() => hosts.has(room) && events.emit('output', room, 'main', data)), opts.cols);
      const h = { phase: opts.phase === undefined ? 'ready' : opts.phase, typed: [] as string[], shell };
      hosts.set(room, h);
      events.emit('host', room, true);
      if (!opts.quiet) shell.start();
      return h;
    },
    disconnect(room: string) {
      hosts.delete(room);
      events.emit('host', room, false);
    },
  };
}

let dir: string;
let db: Db;
let queue: CommandQueue | undefined;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-cq-'));
  db = openDb(dir);
  const rooms = new RoomStore(db);
  rooms.ensure('r2', 'Second');
});
afterEach(() => {
  queue?.close();
  queue = undefined;
  db.$client.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const fastCaps: Partial<CommandCaps> = { readyPollMs: 20, provokeAfterMs: 50, stopGraceMs: 300 };
function makeQueue(hub: CommandHub, caps: Partial<CommandCaps> = {}) {
  queue = new CommandQueue({ db, hub, log: silent, caps: { ...fastCaps, ...caps } });
  return queue;
}
const finished = async (q: CommandQueue, id: string, ms = 3000): Promise<CommandRow> => {
  const row = await q.wait(id, ms);
  expect(row?.state, `command ${row?.cmd} still ${row?.state}`).not.toMatch(/queued|running/);
  return row!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('CommandQueue', () => {
  it('types the command, takes the output up to the next prompt and the exit code from its D mark', async () => {
    const f = fakeHub();
    const h = f.connect('default');
    const q = makeQueue(f.hub);
    const { command } = q.enqueue({ room: 'default', cmd: 'echo $((6*7))' });
    const row = await finished(q, command.id);
    expect(row).toMatchObject({ state: 'done', exitCode: 0, output: '42\n', truncated: false, error: null });
    expect(row.startedAt).toBeInstanceOf(Date);
    expect(row.finishedAt).toBeInstanceOf(Date);
    expect(h.typed).toEqual(['\x05\x15echo $((6*7))\r']);
  });

  it('records a non-zero exit as done with its code, and an unknown command as 127 with its message', async () => {
    const f = fakeHub();
    f.connect('default');
    const q = makeQueue(f.hub);
    const a = q.enqueue({ room: 'default', cmd: '(exit 3)' }).command;
    const b = q.enqueue({ room: 'default', cmd: 'frobnicate --now' }).command;
    expect(await finished(q, a.id)).toMatchObject({ state: 'done', exitCode: 3, output: '', error: 'exited with code 3' });
    expect(await finished(q, b.id)).toMatchObject({ exitCode: 127, output: 'sh: frobnicate: not found\n' });
  });

  it('runs a room’s commands one at a time, in order', async () => {
    const f = fakeHub();
    const h = f.connect('default');
    const q = makeQueue(f.hub);
    const seen: string[] = [];
    q.events.on('finished', (row) => {
      seen.push(row.cmd);
      const running = db.select().from(commands).where(eq(commands.state, 'running')).all();
      expect(running.length).toBeLessThanOrEqual(1);
    });
    const ids = ['sleep 3', 'echo 1', 'echo 2', 'echo 3'].map((cmd) => q.enqueue({ room: 'default', cmd }).command.id);
    // Only the first is typed until its prompt returns. The first runs 3 s: on a loaded machine a
    // timer can fire a second late, and a 1 s command could then be done before this looks.
    await vi.waitFor(() => expect(h.typed.length).toBeGreaterThan(0));
    await sleep(40);
    expect(h.typed.length).toBe(1);
    expect(ids.map((id) => q.get(id)!.state)).toEqual(['running', 'queued', 'queued', 'queued']);
    for (const id of ids) await finished(q, id);
    expect(seen).toEqual(['sleep 3', 'echo 1', 'echo 2', 'echo 3']);
    expect(h.shell.executed).toEqual(['sleep 3', 'echo 1', 'echo 2', 'echo 3']);
    expect((await finished(q, ids[3])).output).toBe('3\n');
  }, 15_000);

  it('is busy while a command of the room runs or waits, so its host is not closed as idle', async () => {
    const f = fakeHub();
    f.connect('default');
    const q = makeQueue(f.hub);
    expect(q.busy('default')).toBe(false);
    const a = q.enqueue({ room: 'default', cmd: 'sleep 0.1' }).command.id;
    const b = q.enqueue({ room: 'default', cmd: 'echo 2' }).command.id;
    expect(q.busy('default')).toBe(true);
    expect(q.busy('other')).toBe(false);
    await finished(q, a);
    expect(q.busy('default')).toBe(true); // b is next
    await finished(q, b);
    expect(q.busy('default')).toBe(false);
  });

  it('keeps rooms independent', async () => {
    const f = fakeHub();
    f.connect('default');
    f.connect('r2');
    const q = makeQueue(f.hub);
    const slow = q.enqueue({ room: 'default', cmd: 'sleep 0.3' }).command;
    const fast = q.enqueue({ room: 'r2', cmd: 'echo other' }).command;
    expect(await finished(q, fast.id)).toMatchObject({ output: 'other\n' });
    expect(q.get(slow.id)!.state).toBe('running');
    await finished(q, slow.id);
  });

  it('sends multi-line and non-ASCII commands as one base64 line, and long ones in pieces', async () => {
    const f = fakeHub();
    const h = f.connect('default');
    const q = makeQueue(f.hub);
    const multi = q.enqueue({ room: 'default', cmd: 'echo a\necho "b ü"\n' }).command;
    expect(await finished(q, multi.id)).toMatchObject({ output: 'a\nb ü\n', exitCode: 0 });
    expect(h.typed[0]).toMatch(/^\x05\x15eval "\$\(printf %s '[A-Za-z0-9+/=]+' \| base64 -d\)"\r$/);

    const long = 'echo ' + 'x'.repeat(3000);
    const big = q.enqueue({ room: 'default', cmd: long }).command;
    const row = await finished(q, big.id);
    expect(row.output).toBe('x'.repeat(3000) + '\n');
    const lines = h.typed.slice(1);
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(MAX_TYPED_LINE_CHARS + 3);
  });

  it('finds the output after a line the editor wrapped, and after clearing what someone half-typed', async () => {
    const f = fakeHub();
    const h = f.connect('default', { cols: 40 });
    const q = makeQueue(f.hub);
    const words = 'echo ' + 'abcdefgh '.repeat(12).trim();
    const wrapped = q.enqueue({ room: 'default', cmd: words }).command;
    expect((await finished(q, wrapped.id)).output).toBe('abcdefgh '.repeat(12).trim() + '\n');
    // A wrap that lands exactly on the last character: ash prints no extra newline on Enter.
    const exact = 'echo ' + 'z'.repeat(40 * 2 - 'user@tandem:~$ '.length - 5);
    const r2 = q.enqueue({ room: 'default', cmd: exact }).command;
    expect((await finished(q, r2.id)).output).toBe('z'.repeat(exact.length - 5) + '\n');

    h.shell.input('half-typed junk');
    await sleep(10);
    const after = q.enqueue({ room: 'default', cmd: 'echo clean' }).command;
    expect((await finished(q, after.id)).output).toBe('clean\n');
  });

  it('waits for a host and says it needs one; runs once the host is at its prompt', async () => {
    const f = fakeHub();
    const q = makeQueue(f.hub);
    const needs: string[] = [];
    q.events.on('needsHost', (room) => needs.push(room));
    const { command } = q.enqueue({ room: 'default', cmd: 'echo later' });
    expect(needs).toEqual(['default']);
    await sleep(50);
    expect(q.get(command.id)!.state).toBe('queued');
    f.connect('default');
    expect(await finished(q, command.id)).toMatchObject({ output: 'later\n' });
  });

  it('waits for the VM to be ready even when a prompt shows', async () => {
    const f = fakeHub();
    const h = f.connect('default', { phase: 'booting' });
    const q = makeQueue(f.hub);
    const { command } = q.enqueue({ room: 'default', cmd: 'echo ok' });
    await sleep(80);
    expect(h.typed).toEqual([]);
    h.phase = 'ready';
    expect(await finished(q, command.id)).toMatchObject({ output: 'ok\n' });
  });

  it('asks a host that joined mid-way (no prompt seen) for a fresh prompt with Enter', async () => {
    const f = fakeHub();
    const h = f.connect('default', { quiet: true });
    const q = makeQueue(f.hub);
    const { command } = q.enqueue({ room: 'default', cmd: 'echo fresh' });
    expect(await finished(q, command.id)).toMatchObject({ output: 'fresh\n' });
    expect(h.typed[0]).toBe('\r');
  });

  it('does not type into a command someone else started; waits for its prompt', async () => {
    const f = fakeHub();
    const h = f.connect('default');
    const q = makeQueue(f.hub);
    await sleep(10);
    h.shell.input('sleep 0.2\r'); // a person runs something
    await sleep(20);
    const { command } = q.enqueue({ room: 'default', cmd: 'echo mine' });
    await sleep(50);
    expect(h.typed).toEqual([]);
    expect(await finished(q, command.id)).toMatchObject({ output: 'mine\n' });
    expect(h.shell.executed).toEqual(['sleep 0.2', 'echo mine']);
  });

  it('times out with Ctrl-C, keeps the output so far, and goes on with the next command', async () => {
    const f = fakeHub();
    const h = f.connect('default');
    const q = makeQueue(f.hub);
    const slow = q.enqueue({ room: 'default', cmd: 'sleep 5', timeoutMs: 150 }).command;
    const next = q.enqueue({ room: 'default', cmd: 'echo next' }).command;
    const row = await finished(q, slow.id);
    expect(row).toMatchObject({ state: 'timeout', exitCode: 130, error: 'timed out after 150 ms' });
    expect(h.typed[1]).toBe('\x03');
    expect(await finished(q, next.id)).toMatchObject({ state: 'done', output: 'next\n' });
  });

  it('records a timeout even when Ctrl-C brings no prompt back, and then types nothing more', async () => {
    const f = fakeHub();
    const h = f.connect('default');
    const q = makeQueue(f.hub);
    const stuck = q.enqueue({ room: 'default', cmd: 'ignore-int', timeoutMs: 100 }).command;
    const next = q.enqueue({ room: 'default', cmd: 'echo next' }).command;
    const row = await finished(q, stuck.id);
    expect(row.state).toBe('timeout');
    expect(row.error).toMatch(/did not return to a prompt/);
    expect(row.output).toContain('ignoring SIGINT');
    await sleep(100);
    expect(q.get(next.id)!.state).toBe('queued');
    expect(h.typed).toEqual(['\x05\x15ignore-int\r', '\x03']);
  });

  it('cancels a queued command at once and a running one with Ctrl-C', async () => {
    const f = fakeHub();
    const h = f.connect('default');
    const q = makeQueue(f.hub);
    const running = q.enqueue({ room: 'default', cmd: 'sleep 5' }).command;
    const queued = q.enqueue({ room: 'default', cmd: 'echo never' }).command;
    await vi.waitFor(() => expect(h.typed.length).toBeGreaterThan(0)); // the first is running (typed), not just queued
    expect((await q.cancel(queued.id))!.state).toBe('cancelled');
    const row = await q.cancel(running.id);
    expect(row).toMatchObject({ state: 'cancelled', exitCode: 130 });
    expect(h.typed).toContain('\x03');
    expect(h.shell.executed).toEqual(['sleep 5']);
    // Cancelling a finished command changes nothing.
    expect((await q.cancel(running.id))!.state).toBe('cancelled');
  });

  it('cancels every queued command of an archived room with its reason; the running one finishes, other rooms go on', async () => {
    const f = fakeHub();
    const h = f.connect('default');
    const q = makeQueue(f.hub);
    const running = q.enqueue({ room: 'default', cmd: 'sleep 0.3' }).command;
    const queued = [q.enqueue({ room: 'default', cmd: 'echo never 1' }).command, q.enqueue({ room: 'default', cmd: 'echo never 2' }).command];
    const elsewhere = q.enqueue({ room: 'r2', cmd: 'echo other room' }).command;
    await vi.waitFor(() => expect(h.typed.length).toBeGreaterThan(0));
    const seen: string[] = [];
    q.events.on('finished', (row) => seen.push(row.id));
    expect(q.cancelQueuedOf('default', 'cancelled before it ran: the room was archived')).toBe(2);
    for (const c of queued) expect(q.get(c.id)).toMatchObject({ state: 'cancelled', error: 'cancelled before it ran: the room was archived' });
    expect(seen).toEqual(queued.map((c) => c.id));
    expect(await finished(q, running.id)).toMatchObject({ state: 'done', exitCode: 0 });
    expect(h.shell.executed).toEqual(['sleep 0.3']);
    expect(q.get(elsewhere.id)!.state).toBe('queued');
    expect(q.busy('default')).toBe(false);
    expect(q.cancelQueuedOf('default', 'again')).toBe(0);
  });

  it('marks the running command interrupted when the host leaves; queued ones wait for the next host', async () => {
    const f = fakeHub();
    f.connect('default');
    const q = makeQueue(f.hub);
    const running = q.enqueue({ room: 'default', cmd: 'sleep 5' }).command;
    const queued = q.enqueue({ room: 'default', cmd: 'echo after' }).command;
    await sleep(30);
    f.disconnect('default');
    expect(await finished(q, running.id)).toMatchObject({ state: 'interrupted', error: expect.stringMatching(/host disconnected/) });
    expect(q.get(queued.id)!.state).toBe('queued');
    f.connect('default');
    expect(await finished(q, queued.id)).toMatchObject({ state: 'done', output: 'after\n' });
  });

  it('after a restart: running becomes interrupted (never retyped), queued still runs', async () => {
    const f = fakeHub();
    const q1 = makeQueue(f.hub);
    const wasRunning = q1.enqueue({ room: 'default', cmd: 'echo half-done' }).command;
    const waiting = q1.enqueue({ room: 'default', cmd: 'echo survived' }).command;
    db.update(commands).set({ state: 'running', startedAt: new Date() }).where(eq(commands.id, wasRunning.id)).run();
    // A crash: the old queue never closes; a new one opens on the same database.
    q1['hub'].events.off('output', q1['onOutput']);
    q1['hub'].events.off('host', q1['onHost']);
    const q2 = new CommandQueue({ db, hub: f.hub, log: silent, caps: fastCaps });
    queue = q2;
    expect(q2.get(wasRunning.id)).toMatchObject({ state: 'interrupted', error: expect.stringMatching(/server stopped/) });
    const h = f.connect('default');
    expect(await finished(q2, waiting.id)).toMatchObject({ output: 'survived\n' });
    expect(h.shell.executed).toEqual(['echo survived']);
    q1.close();
  });

  it('caps the output and says so', async () => {
    const f = fakeHub();
    f.connect('default');
    const q = makeQueue(f.hub, { maxOutputBytes: 100 });
    const { command } = q.enqueue({ room: 'default', cmd: 'seq 200' });
    const row = await finished(q, command.id);
    expect(row.truncated).toBe(true);
    expect(Buffer.byteLength(row.output)).toBeLessThanOrEqual(100);
    expect(row.output.startsWith('1\n2\n3\n')).toBe(true);
  });

  it('returns the same command for a repeated Idempotency-Key and refuses the key for another command', async () => {
    const f = fakeHub();
    const h = f.connect('default');
    const q = makeQueue(f.hub);
    const a = q.enqueue({ room: 'default', cmd: 'echo once', idempotencyKey: 'k-1' });
    await finished(q, a.command.id);
    const b = q.enqueue({ room: 'default', cmd: 'echo once', idempotencyKey: 'k-1' });
    expect(b.created).toBe(false);
    expect(b.command.id).toBe(a.command.id);
    expect(b.command.output).toBe('once\n');
    expect(() => q.enqueue({ room: 'default', cmd: 'echo twice', idempotencyKey: 'k-1' })).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    // Keys are per room.
    expect(q.enqueue({ room: 'r2', cmd: 'echo once', idempotencyKey: 'k-1' }).created).toBe(true);
    await sleep(30);
    expect(h.shell.executed).toEqual(['echo once']);
  });

  it('refuses past its caps with named errors', () => {
    const f = fakeHub();
    const q = makeQueue(f.hub, { maxQueuedPerRoom: 2 });
    q.enqueue({ room: 'default', cmd: 'echo 1' });
    q.enqueue({ room: 'default', cmd: 'echo 2' });
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(code(() => q.enqueue({ room: 'default', cmd: 'echo 3' }))).toBe('RATE_LIMITED');
    expect(code(() => q.enqueue({ room: 'r2', cmd: 'x'.repeat(16 * 1024 + 1) }))).toBe('TOO_LARGE');
    expect(code(() => q.enqueue({ room: 'r2', cmd: '   ' }))).toBe('BAD_MESSAGE');
    expect(code(() => q.enqueue({ room: 'r2', cmd: 'ls', timeoutMs: 11 * 60_000 }))).toBe('BAD_MESSAGE');
  });

  it('keeps only the newest finished commands per room', async () => {
    const f = fakeHub();
    f.connect('default');
    const q = makeQueue(f.hub, { maxFinishedPerRoom: 3 });
    const ids = [1, 2, 3, 4, 5].map((n) => q.enqueue({ room: 'default', cmd: `echo ${n}` }).command.id);
    await finished(q, ids[4]);
    expect(q.list({ room: 'default', limit: 10 }).map((r) => r.cmd)).toEqual(['echo 5', 'echo 4', 'echo 3']);
  });

  it('prunes cancelled commands like finished ones (queue-and-cancel cannot grow the table)', async () => {
    const f = fakeHub();
    const q = makeQueue(f.hub, { maxFinishedPerRoom: 3, maxQueuedPerRoom: 2 });
    // Nobody hosts 'default': each command stays queued until cancelled.
    for (let n = 0; n < 10; n++) await q.cancel(q.enqueue({ room: 'default', cmd: `echo ${n}` }).command.id);
    expect(q.list({ room: 'default', limit: 100 }).map((r) => [r.cmd, r.state])).toEqual([
      ['echo 9', 'cancelled'],
      ['echo 8', 'cancelled'],
      ['echo 7', 'cancelled'],
    ]);
  });
});
