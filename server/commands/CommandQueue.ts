import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Db } from '../db';
import type { CommandRow, CommandState } from '../../drizzle/schema';
import { TandemError } from '../../lib/shared/errors';
import { DEFAULT_TAB } from '../../lib/shared/protocol';
import type { ShellEvent } from '../../lib/shared/ShellIntegration';
import type { RelayEvents } from '../relay/attachRelay';
import type { RoomRelay } from '../relay/RoomRelay';
import { CommandRun } from './CommandRun';
import { CommandStore } from './CommandStore';
import { RoomShell } from './RoomShell';

/** Output kept per command (UTF-8 bytes); the rest is dropped and the command marked truncated. */
export const MAX_COMMAND_OUTPUT_BYTES = 1024 * 1024;
/** Longest command accepted (UTF-8 bytes). */
export const MAX_CMD_BYTES = 16 * 1024;
export const MAX_QUEUED_PER_ROOM = 100;
/** Finished commands kept per room; older ones (and their idempotency keys) are deleted. */
export const MAX_FINISHED_COMMANDS_PER_ROOM = 200;
export const MAX_IDEMPOTENCY_KEY_CHARS = 200;
export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
export const MIN_COMMAND_TIMEOUT_MS = 100;
export const MAX_COMMAND_TIMEOUT_MS = 10 * 60_000;
/** After Ctrl-C, wait this long for the prompt before recording the stop anyway. */
export const STOP_GRACE_MS = 5_000;
/** The host's VM phase changes without an event, so a waiting room looks again this often. */
export const READY_POLL_MS = 250;
/** A host whose shell state we never saw (it was at a prompt before we watched) gets a '\r' after this. */
export const PROVOKE_PROMPT_AFTER_MS = 500;

export const FINAL_STATES: readonly CommandState[] = ['done', 'failed', 'timeout', 'cancelled', 'interrupted'];
export const isFinal = (s: CommandState) => FINAL_STATES.includes(s);

/** What the queue needs from the relay hub; RelayHub provides it, unit tests fake it. */
export interface CommandHub {
  events: Pick<EventEmitter<RelayEvents>, 'on' | 'off'>;
  relay(roomId: string): Pick<RoomRelay, 'injectInput' | 'hostPhase' | 'hasHost'> | undefined;
}

export interface CommandCaps {
  maxOutputBytes: number;
  maxQueuedPerRoom: number;
  maxFinishedPerRoom: number;
  stopGraceMs: number;
  readyPollMs: number;
  provokeAfterMs: number;
}

export interface CommandQueueEvents {
  finished: [command: CommandRow];
  /** A command waits in a room nobody hosts; a headless host can be started for it. */
  needsHost: [roomId: string];
}

export interface EnqueueInput {
  room: string;
  cmd: string;
  timeoutMs?: number;
  idempotencyKey?: string;
}

interface Active {
  id: string;
  run: CommandRun;
  timeoutMs: number;
  timer: ReturnType<typeof setTimeout>;
  stopping: 'timeout' | 'cancelled' | null;
  grace: ReturnType<typeof setTimeout> | null;
}

/**
 * Runs API commands in a room's shared terminal, one at a time per room, in order. SQLite holds
 * the queue, so a restart loses nothing queued; a command that was running when the server
 * stopped becomes 'interrupted' and is never typed again. A command is typed only when the room's
 * host sits idle at its prompt; output and exit code come from the OSC 133 marks of the prompt.
 * Transport-free: it sees the hub's events and types through `injectInput`.
 */
export class CommandQueue {
  readonly events = new EventEmitter<CommandQueueEvents>();
  private readonly store: CommandStore;
  private readonly hub: CommandHub;
  private readonly log: Logger;
  private readonly caps: CommandCaps;
  private shells = new Map<string, RoomShell>();
  private active = new Map<string, Active>();
  private waiters = new Map<string, Set<() => void>>();
  private startup: ReturnType<typeof setImmediate> | null;
  private closed = false;

  constructor(opts: {
    db: Db;
    hub: CommandHub;
    log: Logger;
    caps?: Partial<CommandCaps>;
    /** Same as listening to 'needsHost'. */
    onNeedsHost?: (roomId: string) => void;
  }) {
    this.hub = opts.hub;
    this.log = opts.log;
    this.caps = {
      maxOutputBytes: MAX_COMMAND_OUTPUT_BYTES,
      maxQueuedPerRoom: MAX_QUEUED_PER_ROOM,
      maxFinishedPerRoom: MAX_FINISHED_COMMANDS_PER_ROOM,
      stopGraceMs: STOP_GRACE_MS,
      readyPollMs: READY_POLL_MS,
      provokeAfterMs: PROVOKE_PROMPT_AFTER_MS,
      ...opts.caps,
    };
    this.store = new CommandStore(opts.db, this.caps.maxFinishedPerRoom);
    this.events.setMaxListeners(0);
    if (opts.onNeedsHost) this.events.on('needsHost', opts.onNeedsHost);
    // Whatever was running when the server went away may or may not have happened: say so, never retype it.
    const swept = this.store.interruptRunning('the server stopped while the command was running');
    if (swept) this.log.warn({ count: swept }, 'commands interrupted by a restart');
    this.hub.events.on('output', this.onOutput);
    this.hub.events.on('host', this.onHost);
    // Deferred so listeners attached right after construction hear about rooms waiting since before the restart.
    this.startup = setImmediate(() => {
      this.startup = null;
      for (const room of this.store.roomsWaiting()) this.kick(room);
    });
  }

  /** Queues a command, or returns the one already queued under the same idempotency key. */
  enqueue(input: EnqueueInput): { command: CommandRow; created: boolean } {
    if (this.closed) throw new TandemError('UNAVAILABLE', 'the command queue is shutting down');
    const { room, cmd, idempotencyKey } = input;
    if (typeof cmd !== 'string' || cmd.trim() === '') throw new TandemError('BAD_MESSAGE', 'cmd is empty');
    if (Buffer.byteLength(cmd, 'utf8') > MAX_CMD_BYTES) throw new TandemError('TOO_LARGE', `cmd is over ${MAX_CMD_BYTES} bytes`);
    const timeoutMs = input.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs < MIN_COMMAND_TIMEOUT_MS || timeoutMs > MAX_COMMAND_TIMEOUT_MS)
      throw new TandemError('BAD_MESSAGE', `timeoutMs must be an integer from ${MIN_COMMAND_TIMEOUT_MS} to ${MAX_COMMAND_TIMEOUT_MS}`);
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_CHARS))
      throw new TandemError('BAD_MESSAGE', `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_CHARS} characters`);

    // better-sqlite3 is synchronous, so look-up and insert cannot interleave with another request.
    if (idempotencyKey !== undefined) {
      const prior = this.store.byIdempotencyKey(room, idempotencyKey);
      if (prior) {
        if (prior.cmd !== cmd) throw new TandemError('CONFLICT', 'this Idempotency-Key was used for a different command');
        return { command: prior, created: false };
      }
    }
    const queued = this.store.queuedCount(room);
    if (queued >= this.caps.maxQueuedPerRoom)
      throw new TandemError('RATE_LIMITED', `room ${room} already has ${queued} commands queued; try again later`);

    const row: CommandRow = {
      id: crypto.randomUUID(),
      room,
      cmd,
      state: 'queued',
      exitCode: null,
      output: '',
      truncated: false,
      idempotencyKey: idempotencyKey ?? null,
      timeoutMs,
      createdAt: new Date(),
      startedAt: null,
      finishedAt: null,
      error: null,
    };
    this.store.insert(row);
    this.log.debug({ id: row.id, room }, 'command queued');
    this.kick(room);
    return { command: this.get(row.id)!, created: true };
  }

  get(id: string): CommandRow | undefined {
    return this.store.get(id);
  }

  /** Newest first; of one room, or of `rooms` only when given. */
  list(opts: { room?: string; rooms?: readonly string[]; limit: number }): CommandRow[] {
    return this.store.list(opts);
  }

  /** Resolves with the command once it is final, or as it stands after `ms` (or when `signal` aborts). */
  wait(id: string, ms: number, signal?: AbortSignal): Promise<CommandRow | undefined> {
    const row = this.get(id);
    if (!row || isFinal(row.state) || ms <= 0 || this.closed || signal?.aborted) return Promise.resolve(row);
    return new Promise((resolve) => {
      let set = this.waiters.get(id);
      if (!set) this.waiters.set(id, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
        resolve(this.get(id));
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done);
      set.add(done);
    });
  }

  /**
   * Cancels a command: a queued one at once; a running one with Ctrl-C, resolving when its shell
   * is back at a prompt (or after the grace period). A finished command is returned unchanged.
   */
  async cancel(id: string): Promise<CommandRow | undefined> {
    const row = this.get(id);
    if (!row) return undefined;
    if (row.state === 'queued') {
      if (this.store.cancelQueued(id, 'cancelled before it ran')) {
        // Cancelled rows count as finished ones: queue-and-cancel in a loop must not grow the table.
        this.store.prune(row.room);
        this.finished(id);
      }
      return this.get(id);
    }
    const a = this.active.get(row.room);
    if (row.state === 'running' && a?.id === id) {
      this.stop(row.room, 'cancelled');
      return this.wait(id, this.caps.stopGraceMs + 1000);
    }
    return row;
  }

  /** A command of the room is running or waits: its host must stay (the headless pool asks). */
  busy(room: string): boolean {
    return this.active.has(room) || this.store.hasQueued(room);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.startup) clearImmediate(this.startup);
    this.hub.events.off('output', this.onOutput);
    this.hub.events.off('host', this.onHost);
    for (const room of [...this.active.keys()]) this.finalize(room, 'interrupted', null, 'the server stopped while the command was running');
    for (const s of this.shells.values()) s.dispose();
    this.shells.clear();
    for (const set of [...this.waiters.values()]) for (const done of [...set]) done();
    this.waiters.clear();
  }

  // ---- the stream ----

  private onOutput = (room: string, tab: string, data: string): void => {
    if (tab !== DEFAULT_TAB || this.closed) return;
    const shell = this.shell(room);
    for (const ev of shell.parser.push(data)) {
      const a = this.active.get(room);
      if (a) this.feedActive(room, a, ev);
      else shell.idle(ev);
    }
    if (shell.state === 'prompt' && !this.active.has(room)) this.kick(room);
  };

  private onHost = (room: string, connected: boolean): void => {
    if (this.closed) return;
    // A host replaced by its own reconnect arrives as 'connected' without a disconnect first.
    if (this.active.has(room)) this.finalize(room, 'interrupted', null, 'the host disconnected while the command was running');
    this.shells.get(room)?.dispose();
    this.shells.delete(room);
    if (connected) this.shell(room); // fresh parser, state unknown
    this.kick(room);
  };

  private feedActive(room: string, a: Active, ev: ShellEvent): void {
    if (a.stopping) {
      // After Ctrl-C any D means the shell is back: whatever ran has stopped.
      if (ev.kind === 'done') return this.finalize(room, a.stopping, ev.exitCode, this.stopMessage(a));
      a.run.feed(ev);
      return;
    }
    const step = a.run.feed(ev);
    if (!step) return;
    switch (step.kind) {
      case 'type':
        if (!this.hub.relay(room)?.injectInput(DEFAULT_TAB, a.run.type()))
          this.finalize(room, 'interrupted', null, 'the host disconnected while the command was running');
        return;
      case 'lineFailed':
        return this.finalize(room, 'failed', step.exitCode, `the shell refused a line of the long command (exit ${step.exitCode})`);
      case 'finished':
        return this.finalize(room, 'done', step.exitCode, step.exitCode === 0 ? null : `exited with code ${step.exitCode ?? 'unknown'}`);
    }
  }

  // ---- scheduling ----

  private shell(room: string): RoomShell {
    let s = this.shells.get(room);
    if (!s) this.shells.set(room, (s = new RoomShell()));
    return s;
  }

  /** Starts the room's next command if its host is idle at a prompt; otherwise arranges to look again. */
  private kick(room: string): void {
    if (this.closed || this.active.has(room)) return;
    const next = this.store.nextQueued(room);
    if (!next) return;
    const relay = this.hub.relay(room);
    if (!relay?.hasHost) {
      this.events.emit('needsHost', room);
      return;
    }
    const shell = this.shell(room);
    if (relay.hostPhase !== 'ready') return this.poll(room, shell);
    if (shell.state === 'unknown') {
      // Connected at a prompt we never saw (e.g. the server restarted under a running VM): a bare
      // Enter makes the shell print a fresh one. Once only; a program that eats it keeps us waiting.
      shell.readySince ??= Date.now();
      if (!shell.provoked && Date.now() - shell.readySince >= this.caps.provokeAfterMs) {
        shell.provoked = true;
        relay.injectInput(DEFAULT_TAB, '\r');
        this.log.debug({ room }, 'asked the shell for a fresh prompt');
      }
      if (!shell.provoked) this.poll(room, shell);
      return;
    }
    if (shell.state !== 'prompt') return; // the next B mark kicks again
    this.start(room, next, relay);
  }

  private poll(room: string, shell: RoomShell): void {
    shell.poll ??= setTimeout(() => {
      shell.poll = null;
      if (this.shells.get(room) === shell) this.kick(room);
    }, this.caps.readyPollMs);
  }

  private start(room: string, row: CommandRow, relay: Pick<RoomRelay, 'injectInput'>): void {
    const run = new CommandRun(row.cmd, this.caps.maxOutputBytes);
    // Recorded as running before the keys go out: whatever the shell echoes back belongs to it.
    this.store.markRunning(row.id);
    this.shell(room).state = 'busy';
    const timer = setTimeout(() => this.stop(room, 'timeout'), row.timeoutMs);
    this.active.set(room, { id: row.id, run, timeoutMs: row.timeoutMs, timer, stopping: null, grace: null });
    if (!relay.injectInput(DEFAULT_TAB, run.type())) {
      // The host left in between: nothing was typed, so it simply stays queued.
      clearTimeout(timer);
      this.active.delete(room);
      this.store.requeue(row.id);
      return;
    }
    this.log.info({ id: row.id, room, lines: run.lineCount }, 'command started');
  }

  /** Ctrl-C, then wait for the prompt; a shell that does not come back is recorded stopped anyway. */
  private stop(room: string, reason: 'timeout' | 'cancelled'): void {
    const a = this.active.get(room);
    if (!a || a.stopping) return;
    a.stopping = reason;
    clearTimeout(a.timer);
    this.hub.relay(room)?.injectInput(DEFAULT_TAB, '\x03');
    a.grace = setTimeout(() => {
      this.finalize(room, reason, null, `${this.stopMessage(a)}; the shell did not return to a prompt after Ctrl-C`);
    }, this.caps.stopGraceMs);
  }

  private stopMessage(a: Active): string {
    return a.stopping === 'timeout' ? `timed out after ${a.timeoutMs} ms` : 'cancelled while running';
  }

  private finalize(room: string, state: CommandState, exitCode: number | null, error: string | null): void {
    const a = this.active.get(room);
    if (!a) return;
    this.active.delete(room);
    clearTimeout(a.timer);
    if (a.grace) clearTimeout(a.grace);
    // Between a D mark and the next B the prompt is still being printed.
    const shell = this.shells.get(room);
    if (shell) shell.state = 'busy';
    const output = a.run.output;
    this.store.finish(a.id, { state, exitCode, output, truncated: a.run.truncated, error });
    this.log.info({ id: a.id, room, state, exitCode, outputBytes: Buffer.byteLength(output) }, 'command finished');
    this.store.prune(room);
    this.finished(a.id);
  }

  private finished(id: string): void {
    const row = this.get(id);
    for (const done of [...(this.waiters.get(id) ?? [])]) done();
    if (row) this.events.emit('finished', row);
  }
}
