/**
 * The browser side of the command API for the /remote console: typed calls, errors in words, and a
 * small limit on concurrent long polls (a browser keeps about six connections per host; the console
 * must leave some for Cancel and the history).
 */

import { ApiError, readApiResponse } from '../../lib/browser/client/apiResponse';

export const COMMAND_STATES = ['queued', 'running', 'done', 'failed', 'timeout', 'cancelled', 'interrupted'] as const;
export type CommandState = (typeof COMMAND_STATES)[number];
const FINAL: ReadonlySet<string> = new Set(['done', 'failed', 'timeout', 'cancelled', 'interrupted']);
export const isFinal = (s: CommandState) => FINAL.has(s);

/** A command as the API shows it (output only when one command is fetched and it finished). */
export interface CommandView {
  id: string;
  room: string;
  cmd: string;
  state: CommandState;
  status: 'pending' | 'running' | 'completed' | 'error';
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  exitCode?: number | null;
  output?: string;
  truncated?: boolean;
  error?: string | null;
}

export interface ApiErrorBody {
  code: string;
  message: string;
}

export interface BatchErrorItem {
  room: string;
  success: false;
  error: ApiErrorBody;
}

export type BatchItem = CommandView | BatchErrorItem;
export const isBatchError = (it: BatchItem): it is BatchErrorItem => (it as BatchErrorItem).success === false;

export interface RoomInfo {
  id: string;
  name: string;
  createdAt: string;
  hostConnected: boolean;
}

export { ApiError };

/** What to tell a person about a failed call. */
export function explain(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 401) return 'API key rejected. Check the key and try again.';
    if (e.status === 503 && e.code === 'UNAVAILABLE') return 'The command API is off: API_KEY is not set on the server. Set it and restart the server.';
    return `${e.message} (${e.code})`;
  }
  if (e instanceof Error && e.name === 'AbortError') return 'Stopped.';
  return 'Cannot reach the server. Is it running?';
}

/** 401 and 503 concern every call, not one command: the console shows them once, at the top. */
export const isAuthProblem = (e: unknown) => e instanceof ApiError && (e.status === 401 || e.status === 503);

/** One API call with the key as a Bearer header (never in the URL). */
export async function callApi<T>(
  key: string,
  path: string,
  init: { method?: string; body?: unknown; signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<{ status: number; data: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}`, ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: init.signal,
    cache: 'no-store',
  });
  return { status: res.status, data: await readApiResponse<T>(res) };
}

/** A counting semaphore: at most `n` holders at once, the rest wait in order. */
export class Slots {
  private free: number;
  private waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener('abort', stop);
        resolve();
      };
      const stop = () => {
        this.waiting = this.waiting.filter((w) => w !== go);
        reject(new DOMException('aborted', 'AbortError'));
      };
      if (signal?.aborted) return stop();
      signal?.addEventListener('abort', stop, { once: true });
      this.waiting.push(go);
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** Random enough for an idempotency key or a client id, also where crypto.randomUUID is missing (plain http off localhost). */
export function randomId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function' && globalThis.isSecureContext) return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** "850 ms", "4.2 s", "3 m 07 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
}

/** finishedAt − startedAt, or the time so far while it runs; null before it starts. */
export function durationOf(c: Pick<CommandView, 'startedAt' | 'finishedAt'>, now = Date.now()): number | null {
  if (!c.startedAt) return null;
  return (c.finishedAt ? Date.parse(c.finishedAt) : now) - Date.parse(c.startedAt);
}
