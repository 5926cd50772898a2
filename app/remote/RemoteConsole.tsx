'use client';

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import TopBar from '../_components/TopBar';
import WatchTerminal from '../_components/WatchTerminal';
import HistoryPanel from './HistoryPanel';
import ResultCell, { type Cell } from './ResultCell';
import RoomsPanel from './RoomsPanel';
import Alert from '../_components/Alert';
import {
  ApiError,
  Slots,
  callApi,
  explain,
  isAuthProblem,
  isBatchError,
  isFinal,
  randomId,
  type BatchItem,
  type CommandView,
  type RoomInfo,
} from './remoteApi';

const KEY_STORAGE = 'tandem:remote:apiKey';
/** Long polls at once; a browser has about six connections per host and Cancel needs one. */
const MAX_LONG_POLLS = 4;
/** How long one long poll waits: a full wait when every followed command has a connection, short turns when they must share. */
const LONG_POLL_MS = 20_000;
const SHARED_POLL_MS = 3_000;
const RETRY_MAX_MS = 10_000;
const DEFAULT_TIMEOUT_S = 30;

interface Run {
  id: string;
  cmd: string;
  cells: Cell[];
}

/** The instructor's console: pick rooms, run one command in all of them, watch the results arrive. */
export default function RemoteConsole() {
  const [key, setKey] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [rooms, setRooms] = useState<RoomInfo[] | null>(null);
  const [loadingRooms, setLoadingRooms] = useState(false);
  const [selected, setSelected] = useState<string[]>([]);
  const [cmd, setCmd] = useState('');
  const [timeoutS, setTimeoutS] = useState(String(DEFAULT_TIMEOUT_S));
  const [run, setRun] = useState<Run | null>(null);
  const [starting, setStarting] = useState(false);
  const [watch, setWatch] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const [historyTick, setHistoryTick] = useState(0);

  const slots = useRef(new Slots(MAX_LONG_POLLS));
  const following = useRef(0);
  const runAbort = useRef<AbortController | null>(null);
  const keyRef = useRef(key);
  keyRef.current = key;

  useEffect(() => {
    setKey(sessionStorage.getItem(KEY_STORAGE) ?? '');
    return () => runAbort.current?.abort();
  }, []);

  const names = useMemo(() => new Map((rooms ?? []).map((r) => [r.id, r.name])), [rooms]);
  const anyRunning = run?.cells.some((c) => c.command && !isFinal(c.command.state)) ?? false;

  // Running cells show their time so far.
  useEffect(() => {
    if (!anyRunning) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [anyRunning]);

  function saveKey(value: string) {
    setKey(value);
    if (value) sessionStorage.setItem(KEY_STORAGE, value);
    else sessionStorage.removeItem(KEY_STORAGE);
  }

  /** Reports an error; 401/503 go to the banner, since they concern every call. */
  const report = useCallback((e: unknown): string => {
    const text = explain(e);
    if (isAuthProblem(e)) setProblem(text);
    return text;
  }, []);

  /** Fetches the rooms; `quiet` (after a run, for fresh host dots) says nothing when it fails. */
  const loadRooms = useCallback(async (quiet = false) => {
    const k = keyRef.current;
    if (!k.trim()) {
      if (!quiet) setProblem('Enter the API key first.');
      return;
    }
    if (!quiet) setLoadingRooms(true);
    try {
      const { data } = await callApi<{ rooms: RoomInfo[] }>(k, '/api/rooms');
      setProblem(null);
      setRooms(data.rooms);
      const ids = new Set(data.rooms.map((r) => r.id));
      setSelected((s) => s.filter((id) => ids.has(id)));
    } catch (e) {
      if (quiet) return;
      setProblem(explain(e));
      if (isAuthProblem(e)) setRooms(null);
    } finally {
      if (!quiet) setLoadingRooms(false);
    }
  }, []);

  // When a run settles, the history has new entries and hosts may have come (the headless host).
  const settled = run !== null && !anyRunning && run.cells.some((c) => c.command);
  useEffect(() => {
    if (!settled) return;
    setHistoryTick((n) => n + 1);
    void loadRooms(true);
  }, [settled, run?.id, loadRooms]);

  const updateCell = useCallback((runId: string, room: string, patch: Partial<Cell>) => {
    setRun((r) => (r && r.id === runId ? { ...r, cells: r.cells.map((c) => (c.room === room ? { ...c, ...patch } : c)) } : r));
  }, []);

  /** Long-polls one command until it is final, sharing connections with the other cells. */
  const follow = useCallback(
    async (runId: string, room: string, id: string, signal: AbortSignal) => {
      following.current++;
      let retryMs = 0;
      try {
        while (!signal.aborted) {
          if (retryMs) await sleep(retryMs, signal);
          let view: CommandView;
          try {
            await slots.current.acquire(signal);
            try {
              const waitMs = following.current > MAX_LONG_POLLS ? SHARED_POLL_MS : LONG_POLL_MS;
              ({ data: view } = await callApi<CommandView>(keyRef.current, `/api/rooms/${room}/commands/${id}?wait=true&waitMs=${waitMs}`, { signal }));
            } finally {
              slots.current.release();
            }
          } catch (e) {
            if (signal.aborted) return;
            if (e instanceof ApiError) return updateCell(runId, room, { note: report(e) });
            // The network dropped: say so and keep trying, more slowly each time.
            updateCell(runId, room, { note: 'Connection lost; retrying…' });
            retryMs = Math.min(retryMs ? retryMs * 2 : 1000, RETRY_MAX_MS);
            continue;
          }
          retryMs = 0;
          updateCell(runId, room, { command: view, note: undefined });
          if (isFinal(view.state)) return;
        }
      } catch {
        // aborted while sleeping: a newer run replaced this one
      } finally {
        following.current--;
      }
    },
    [report, updateCell],
  );

  async function start() {
    const text = cmd;
    const timeoutMs = Math.round(Number(timeoutS) * 1000);
    if (!text.trim() || selected.length === 0) return;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 100 || timeoutMs > 600_000) {
      setProblem('The timeout is 0.1 to 600 seconds.');
      return;
    }
    runAbort.current?.abort();
    const abort = new AbortController();
    runAbort.current = abort;
    const order = (rooms ?? []).map((r) => r.id).filter((id) => selected.includes(id));
    const runId = randomId();
    setRun({ id: runId, cmd: text, cells: order.map((room) => ({ room })) });
    setStarting(true);
    try {
      // The Idempotency-Key makes a retried request (a flaky network) start nothing twice.
      const { data } = await callApi<{ results: BatchItem[] }>(key, '/api/commands/batch?wait=false', {
        method: 'POST',
        body: { rooms: order, cmd: text, timeoutMs },
        headers: { 'idempotency-key': runId },
        signal: abort.signal,
      });
      setProblem(null);
      setRun((r) =>
        r && r.id === runId
          ? {
              ...r,
              cells: data.results.map((it): Cell => (isBatchError(it) ? { room: it.room, note: `${it.error.message} (${it.error.code})` } : { room: it.room, command: it })),
            }
          : r,
      );
      for (const it of data.results) if (!isBatchError(it) && !isFinal(it.state)) void follow(runId, it.room, it.id, abort.signal);
    } catch (e) {
      if (abort.signal.aborted) return;
      const why = report(e);
      setRun((r) => (r && r.id === runId ? { ...r, cells: r.cells.map((c) => ({ ...c, note: why })) } : r));
    } finally {
      setStarting(false);
    }
  }

  async function cancel(runId: string, c: Cell) {
    if (!c.command) return;
    updateCell(runId, c.room, { cancelling: true });
    try {
      const { data } = await callApi<CommandView>(key, `/api/commands/${c.command.id}`, { method: 'DELETE' });
      updateCell(runId, c.room, { command: data, cancelling: false });
    } catch (e) {
      const text = e instanceof ApiError && e.status === 409 ? 'It had already finished.' : report(e);
      updateCell(runId, c.room, { cancelling: false, note: text });
    }
  }

  const canRun = !!key && selected.length > 0 && cmd.trim() !== '' && !starting;
  const summary = run ? summarize(run.cells) : '';

  return (
    <main className="remote">
      <TopBar
        label="remote console"
        end={
          <a href="/api/openapi.json" target="_blank" rel="noreferrer">
            API reference (OpenAPI)
          </a>
        }
      />

      <Alert text={problem} className="remote-problem" />

      <div className="remote-layout">
        <aside className="remote-side">
          <section className="remote-panel" aria-labelledby="remote-key-h">
            <h2 id="remote-key-h">1. API key</h2>
            <form
              className="remote-stack"
              onSubmit={(e) => {
                e.preventDefault();
                void loadRooms();
              }}
            >
              <label className="remote-label" htmlFor="remote-key">
                The server’s <code>API_KEY</code>, kept in this tab only
              </label>
              <div className="row">
                <input
                  id="remote-key"
                  type="password"
                  autoComplete="off"
                  spellCheck={false}
                  value={key}
                  onChange={(e) => saveKey(e.target.value)}
                  placeholder="API key"
                  className="remote-grow"
                />
                {key && (
                  <button type="button" className="secondary" onClick={() => saveKey('')} title="Forget the key in this tab">
                    Forget
                  </button>
                )}
              </div>
              <button type="submit" disabled={loadingRooms}>
                {loadingRooms ? 'Loading…' : rooms ? 'Reload rooms' : 'Load rooms'}
              </button>
            </form>
          </section>

          <RoomsPanel rooms={rooms} selected={selected} onSelect={setSelected} watch={watch} onWatch={setWatch} />
        </aside>

        <div className="remote-main">
          <section className="remote-panel" aria-labelledby="remote-cmd-h">
            <h2 id="remote-cmd-h">3. Command</h2>
            <form
              className="remote-cmd"
              onSubmit={(e) => {
                e.preventDefault();
                if (canRun) void start();
              }}
            >
              <input
                aria-label="Command"
                className="remote-cmd-input"
                value={cmd}
                onChange={(e) => setCmd(e.target.value)}
                placeholder="echo hello from $(hostname)"
                spellCheck={false}
                autoComplete="off"
                maxLength={16 * 1024}
              />
              <label className="remote-timeout">
                Timeout
                <input aria-label="Timeout in seconds" type="number" min={0.1} max={600} step="any" value={timeoutS} onChange={(e) => setTimeoutS(e.target.value)} />s
              </label>
              <button type="submit" disabled={!canRun} title={selected.length === 0 ? 'Select at least one room' : undefined}>
                {starting ? 'Starting…' : `Run in ${selected.length} ${selected.length === 1 ? 'room' : 'rooms'}`}
              </button>
            </form>
            <p className="remote-muted">Typed visibly into each room’s shared terminal, one command at a time per room.</p>
          </section>

          {run && (
            <section className="remote-panel" aria-labelledby="remote-results-h">
              <div className="remote-panel-head">
                <h2 id="remote-results-h">
                  Results <code className="remote-run-cmd">{run.cmd}</code>
                </h2>
                <span className="remote-muted" aria-live="polite">
                  {summary}
                </span>
              </div>
              <div className="remote-grid">
                {run.cells.map((c) => (
                  <ResultCell
                    key={c.room}
                    cell={c}
                    name={names.get(c.room)}
                    now={now}
                    watching={watch === c.room}
                    onCancel={() => void cancel(run.id, c)}
                    onWatch={() => setWatch(c.room)}
                  />
                ))}
              </div>
            </section>
          )}

          {watch && (
            <section className="remote-panel" aria-labelledby="remote-watch-h">
              <div className="remote-panel-head">
                <h2 id="remote-watch-h">
                  Watch: {names.get(watch) ?? watch} <span className="remote-room-id">{watch}</span>
                </h2>
                <button type="button" className="secondary remote-small" onClick={() => setWatch(null)}>
                  Close
                </button>
              </div>
              <WatchTerminal key={watch} roomId={watch} />
            </section>
          )}

          <HistoryPanel apiKey={key} rooms={rooms} names={names} refresh={historyTick} onError={report} />
        </div>
      </div>
    </main>
  );
}

function summarize(cells: Cell[]): string {
  const counts = new Map<string, number>();
  for (const c of cells) {
    const s = c.command?.state ?? (c.note ? 'error' : 'sending');
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return [...counts].map(([s, n]) => `${n} ${s}`).join(' · ');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(done, ms);
    function done() {
      signal.removeEventListener('abort', stop);
      resolve();
    }
    function stop() {
      clearTimeout(t);
      reject(new DOMException('aborted', 'AbortError'));
    }
    if (signal.aborted) return stop();
    signal.addEventListener('abort', stop, { once: true });
  });
}
