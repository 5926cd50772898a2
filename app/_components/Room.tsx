'use client';

import { useEffect, useRef, useState } from 'react';
import {
  DEFAULT_TAB,
  MAX_OUTPUT_CHUNK_BYTES,
  type ProtocolErrorPayload,
  type Role,
  type RoomState,
  type TabInfo,
} from '../../lib/shared/protocol';
import type { BootProgress, Engine } from '../../lib/browser/vm/Engine';
import type { GuestManifest } from '../../lib/browser/vm/V86Engine';
import type { EngineChoice } from '../../lib/browser/vm/createEngine';
import { TabView } from '../../lib/browser/client/TabView';
import { hostTokenFromHash } from '../../lib/browser/client/pageIdentity';
import { accounts, explain } from '../../lib/browser/client/accountsApi';
import { connectRoom, StatusReporter, type Conn, type RoomSocket } from '../../lib/browser/client/roomConnection';
import { isTerminalReply } from '../../lib/browser/client/terminalReplies';
import AccountMenu from './AccountMenu';
import AccessDenied from './room/AccessDenied';
import type { EmitControl } from './room/ControlPanel';
import BootStatus from './room/BootStatus';
import RoomNotices from './room/RoomNotices';
import HostSeat from './room/HostSeat';
import RoleBadge from './room/RoleBadge';
import ShareLink from './room/ShareLink';
import RoomSidebar from './room/RoomSidebar';
import { useGuestScale } from './room/useGuestScale';
import { anonymousName, useRoomCollab } from './room/useRoomCollab';
import { TailscaleControl } from './TailscaleControl';
import type { TailscaleControl as TsControl } from '../../lib/browser/vm/ScreenVm';

/** Each terminal on the host is its own VM (128 MiB); more than a few would starve the browser. */
const MAX_HOST_TABS = 4;
/** Output frames kept for the server while the host's connection is down (each ≤ 64 KiB). */
const MAX_BUFFERED_FRAMES_OFFLINE = 256;


export default function Room({ roomId }: { roomId: string }) {
  const termEl = useRef<HTMLDivElement>(null);
  const termWrap = useRef<HTMLDivElement>(null);
  /** Read by the socket effect on each keystroke: may I type. */
  const access = useRef({ canType: true });
  /** Set once connected: a later refusal means my access was taken away, not that I never had it. */
  const [lostAccess, setLostAccess] = useState(false);
  const [state, setState] = useState<RoomState | null>(null);
  const [conn, setConn] = useState<Conn>('connecting');
  const [fatal, setFatal] = useState<ProtocolErrorPayload | null>(null);
  const [boot, setBoot] = useState<BootProgress | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [commands, setCommands] = useState<Record<string, number>>({});
  const [engineNotice, setEngineNotice] = useState<string | null>(null);
  /** The engine asked to offer "Reset VM" with its notice (e.g. browser storage is full). */
  const [offerReset, setOfferReset] = useState(false);
  const [activeTab, setActiveTab] = useState(DEFAULT_TAB);
  /** The main terminal's engine, for the Tailscale control (CheerpX only). */
  const [mainVm, setMainVm] = useState<{ name: Engine['name']; tailscale: TsControl | null } | null>(null);
  const controls = useRef<{
    show(tab: string): void;
    open(): void;
    close(tab: string): void;
    jump(dir: -1 | 1): void;
    setReadOnly(ro: boolean): void;
    emit: EmitControl;
    reset(): void;
    save(): Promise<void>;
    take(): void;
    give(peer: string): Promise<void>;
  } | null>(null);

  useEffect(() => {
    let disposed = false;
    let socket: RoomSocket | null = null;
    const views = new Map<string, TabView>();
    let noticeTimer: ReturnType<typeof setTimeout> | undefined;
    const flash = (text: string) => {
      setNotice(text);
      clearTimeout(noticeTimer);
      noticeTimer = setTimeout(() => setNotice(null), 5000);
    };

    (async () => {
      const [{ Terminal }, { FitAddon }, { io }] = await Promise.all([
        import('@xterm/xterm'),
        import('@xterm/addon-fit'),
        import('socket.io-client'),
      ]);
      if (disposed || !termEl.current) return;
      const container = termEl.current;
      const hostToken = hostTokenFromHash();
      const params = new URLSearchParams(window.location.search);
      const conn = connectRoom(io, {
        roomId,
        // `?watch` joins as a guest even when nobody hosts (e.g. to watch the headless host).
        wantHost: !params.has('watch'),
        hostToken,
        name: anonymousName(),
        onConn: setConn,
        onFatal: (err, lost) => {
          if (lost) setLostAccess(true);
          setFatal(err);
        },
      });
      const s = conn.socket;
      socket = s;
      let role: Role | null = null;
      let active = DEFAULT_TAB;
      let manifest: (GuestManifest & { engineChoice: EngineChoice; cheerpxDisk: string }) | null = null;
      /** Tabs whose next boot ignores snapshots ("Reset VM"). */
      const coldTabs = new Set<string>();
      /** The key my uploads of the room's VM state carry while I host (from my room:state). */
      let hostKey: string | undefined;
      let hostName: string | null | undefined;
      const { RoomStateClient } = await import('../../lib/browser/vm/RoomStateClient');
      const roomState = RoomStateClient.available ? new RoomStateClient({ room: roomId, hostKey: () => hostKey, hostToken }) : undefined;
      /** Uploads the main VM's state (before giving the VM away); a failure is said, not fatal. */
      const syncMain = async () => {
        try {
          return (await views.get(DEFAULT_TAB)?.engine?.syncRoomState?.()) ?? null;
        } catch (err) {
          flash(`Could not save the VM on the server: ${err instanceof Error ? err.message : String(err)}`);
          return null;
        }
      };
      const onHidden = () => {
        if (document.visibilityState === 'hidden' && role === 'host') void syncMain();
      };
      document.addEventListener('visibilitychange', onHidden);

      const view = (tab: string): TabView => {
        let v = views.get(tab);
        if (!v) {
          v = new TabView({ Terminal, FitAddon }, container, tab, {
            onCommands: (t, n) => setCommands((c) => ({ ...c, [t]: n })),
            requestSync: (t) => s.emit('term:sync', { tab: t }),
            onInput: (t, data) => {
              // Read-only (viewer, or another holds the keyboard): nothing leaves this page.
              if (!access.current.canType) return;
              if (role === 'host') views.get(t)?.engine?.write(data);
              else if (!isTerminalReply(data)) s.emit('term:in', { tab: t, data });
            },
          });
          v.term.options.disableStdin = !access.current.canType;
          v.show(tab === active);
          views.set(tab, v);
        }
        return v;
      };
      const show = (tab: string) => {
        if (!views.has(tab)) return;
        active = tab;
        setActiveTab(tab);
        for (const v of views.values()) v.show(v.id === tab);
        if (role === 'host') views.get(tab)?.fit.fit();
      };

      // Boot status is the main terminal's: the command queue waits on it.
      const status = new StatusReporter((st) => s.emit('host:status', st));
      const sendSize = (v: TabView) => s.emit('term:resize', { tab: v.id, cols: v.term.cols, rows: v.term.rows });

      /** Starts the VM behind one terminal (host only). */
      const startEngine = async (v: TabView) => {
        if (v.engine || v.starting) return;
        v.starting = true;
        try {
          await bootEngine(v);
        } finally {
          v.starting = false;
        }
      };
      const bootEngine = async (v: TabView) => {
        const isMain = v.id === DEFAULT_TAB;
        const report = (p: BootProgress, force: boolean) => {
          if (!isMain) return;
          setBoot(p);
          status.send(p, force);
        };
        v.fit.fit();
        sendSize(v);
        const { createEngine } = await import('../../lib/browser/vm/createEngine');
        manifest ??= await fetch(`/vm/manifest.json?room=${encodeURIComponent(roomId)}`).then((r) => r.json());
        if (disposed || role !== 'host' || !manifest) return;
        const m = manifest;
        const choice = (['auto', 'cheerpx', 'v86'] as const).find((c) => c === params.get('engine')) ?? m.engineChoice;
        let e: Engine;
        try {
          e = await createEngine({
            // The headless host always runs v86: its boot snapshot is what every host restores.
            choice: hostToken ? 'v86' : choice,
            manifest: m,
            cheerpx: { disk: m.cheerpxDisk, overlayKey: `tandem:${roomId}:${v.id}:${m.cheerpxDisk}`, bashrcUrl: '/vm/tandem.bashrc', cols: v.term.cols, rows: v.term.rows },
            notice: (text, o) => {
              setEngineNotice(text);
              // Nobody reads the headless host's page: its notices go to the server's log.
              if (hostToken) console.error(`[tandem] ${text}`);
              if (o?.reset) setOfferReset(true);
            },
            diskKey: `${roomId}:${v.id}`,
            // The main terminal's VM is the room's: saved on the server, restored by the next host.
            roomState: isMain ? roomState : undefined,
            coldBoot: coldTabs.delete(v.id),
            publishSnapshot:
              hostToken && isMain
                ? async (gz) => {
                    const r = await fetch(`/vm/boot-snapshot/${m.version}`, { method: 'PUT', body: gz, headers: { 'x-host-token': hostToken } });
                    if (!r.ok) throw new Error(`boot snapshot refused: ${r.status}`);
                  }
                : undefined,
          });
        } catch (err) {
          report({ phase: 'failed', progress: 1, message: err instanceof Error ? err.message : String(err) }, true);
          return;
        }
        if (disposed || role !== 'host' || views.get(v.id) !== v) return void e.destroy();
        v.engine = e;
        if (isMain) setMainVm({ name: e.name, tailscale: (e as { tailscale?: TsControl }).tailscale ?? null });
        e.onOutput((data) => {
          v.term.write(data);
          // While disconnected Socket.IO buffers emits for the reconnect; past a cap we drop them
          // rather than grow without bound (guests then resync from the mirror).
          const buffered = (s as unknown as { sendBuffer: unknown[] }).sendBuffer;
          if (!s.connected && buffered.length > MAX_BUFFERED_FRAMES_OFFLINE) return;
          for (let i = 0; i < data.length; i += MAX_OUTPUT_CHUNK_BYTES)
            s.emit('term:out', { tab: v.id, seq: ++v.hostSeq, data: data.slice(i, i + MAX_OUTPUT_CHUNK_BYTES) });
        });
        try {
          await e.boot((p) => report(p, p.phase !== 'booting'));
        } catch (err) {
          if (v.engine !== e) return; // stopped (e.g. by Reset VM) while booting
          report({ phase: 'failed', progress: 1, message: err instanceof Error ? err.message : String(err) }, true);
        }
      };

      /** Makes the views match the room's tab list; the host runs a VM per tab. */
      const syncTabs = (tabs: TabInfo[]) => {
        const ids = new Set(tabs.map((t) => t.id));
        for (const [id, v] of views)
          if (!ids.has(id)) {
            v.dispose();
            views.delete(id);
          }
        for (const t of tabs) {
          const isNew = !views.has(t.id);
          const v = view(t.id);
          if (role === 'host' && isNew) void startEngine(v);
          else if (role === 'guest' && isNew && t.id !== DEFAULT_TAB) s.emit('term:sync', { tab: t.id });
        }
        if (!views.has(active)) show(DEFAULT_TAB);
      };

      const onWindowResize = () => {
        if (role === 'host') views.get(active)?.fit.fit();
      };
      window.addEventListener('resize', onWindowResize);

      controls.current = {
        show,
        jump: (dir) => views.get(active)?.blocks.jump(dir),
        open: () => {
          if (role !== 'host') return;
          const n = views.size + 1;
          const id = `t${Date.now().toString(36)}`;
          s.emit('tab:open', { tab: id, title: `Terminal ${n}` });
        },
        close: (tab) => role === 'host' && s.emit('tab:close', { tab }),
        setReadOnly: (ro) => {
          for (const v of views.values()) v.term.options.disableStdin = ro;
        },
        emit: (event, ...args) => s.emit(event, ...args),
        take: () => s.emit('host:take', {}),
        // "Give host to …": the VM is saved on the server first, so the new host resumes it as it is.
        give: async (peer) => {
          if (role !== 'host') return;
          await syncMain();
          s.emit('host:give', { to: peer });
        },
        // "Save VM": the active terminal's VM as it is now, restored by this room's next load here.
        save: async () => {
          const v = views.get(active);
          if (role !== 'host' || !v?.engine?.save) return;
          try {
            const { bytes, ms } = await v.engine.save();
            const up = v.id === DEFAULT_TAB ? await syncMain() : null;
            flash(`Saved the VM (${(bytes / 2 ** 20).toFixed(1)} MB in ${(ms / 1000).toFixed(1)} s)${up ? ', also on the server for the room’s next host' : ''}: reloading this room in this browser restores it.`);
          } catch (err) {
            flash(`Save VM: ${err instanceof Error ? err.message : String(err)}`);
          }
        },
        // Forget this browser's disk overlays and snapshots of the room, then boot every tab cold.
        reset: async () => {
          if (role !== 'host') return;
          const vs = [...views.values()];
          await Promise.all(vs.map((v) => v.stopEngine()));
          const { resetRoomDisks } = await import('../../lib/browser/vm/resetVm');
          try {
            await resetRoomDisks(roomId);
          } catch (err) {
            flash(`Reset VM: could not clear browser storage (${err instanceof Error ? err.message : String(err)})`);
          }
          setEngineNotice(null);
          setOfferReset(false);
          for (const v of vs) {
            coldTabs.add(v.id);
            v.term.reset();
            // Everyone's copy of the screen starts over too (RIS).
            s.emit('term:out', { tab: v.id, seq: ++v.hostSeq, data: '\x1bc' });
            void startEngine(v);
          }
        },
      };

      view(DEFAULT_TAB);
      s.on('room:state', (st) => {
        // `me` comes only in the states sent to me alone: keep the last one.
        setState((prev) => ({ ...st, me: st.me ?? prev?.me }));
        const was = role;
        role = st.role;
        if (st.role === 'host') hostKey = st.hostKey;
        // Handover: say who runs the VM now (not on my first state: nothing changed for me then).
        if (st.hostName !== undefined && st.hostName !== hostName) {
          if (st.hostName && hostName !== undefined) flash(st.role === 'host' ? 'You are now hosting: the VM runs in this browser.' : `${st.hostName} is now hosting.`);
          hostName = st.hostName;
        }
        const fresh = conn.takeFresh();
        if (was === role) {
          syncTabs(st.tabs);
          // Same seat after a reconnect: tell the server where the VMs stand again.
          if (fresh && role === 'host' && status.resend()) for (const v of views.values()) sendSize(v);
          return;
        }
        if (role === 'host') {
          // Taking a running room over (handover): the screen goes on from where the mirror had it.
          if (was !== 'guest') for (const v of views.values()) v.term.reset();
          syncTabs(st.tabs);
          for (const v of views.values()) void startEngine(v);
        } else {
          if (was === 'host') {
            flash('Another browser is hosting this room now; you are watching.');
            setBoot(null);
            for (const v of views.values()) void v.stopEngine();
          }
          syncTabs(st.tabs);
          // The current screens come from the server's mirrors.
          if (was === 'host') for (const v of views.values()) s.emit('term:sync', { tab: v.id });
        }
      });
      s.on('term:snapshot', (snap) => role === 'guest' && views.get(snap.tab)?.snapshot(snap));
      s.on('term:out', (f) => role === 'guest' && views.get(f.tab)?.out(f));
      s.on('term:resize', (r) => role === 'guest' && views.get(r.tab)?.term.resize(r.cols, r.rows));
      s.on('term:in', (m) => role === 'host' && views.get(m.tab)?.engine?.write(m.data));
      s.on('room:error', (e) => flash(`${e.code}: ${e.message}`));
      // Someone asked for the VM (the server's headless host yields to a person): save it, then give it.
      s.on('host:yield', (y) => {
        if (role !== 'host') return;
        void syncMain().then(() => s.emit('host:give', { to: y.peer }));
      });

      return () => {
        window.removeEventListener('resize', onWindowResize);
        document.removeEventListener('visibilitychange', onHidden);
      };
    })().then(
      (cleanup) => {
        if (disposed) cleanup?.();
      },
      (err) => setFatal({ code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) }),
    );

    return () => {
      disposed = true;
      controls.current = null;
      clearTimeout(noticeTimer);
      socket?.disconnect();
      for (const v of views.values()) v.dispose();
      views.clear();
    };
  }, [roomId]);

  const role = state?.role;
  const me = state?.me;
  const denied = fatal?.code === 'UNAUTHORIZED' || fatal?.code === 'FORBIDDEN';
  const collab = useRoomCollab(roomId, me ? { memberId: me.memberId, name: me.name } : null, !!role && !denied);
  const people = collab.people;
  // Rooms without accounts (and servers before them) send no `me`: everyone types, as before.
  // In `single` mode only the keyboard's holder types (the server refuses the others' keystrokes).
  const canType = me ? me.canType && (collab.control.mode === 'all' || collab.control.holder === me.memberId) : true;
  access.current = { canType };
  useEffect(() => controls.current?.setReadOnly(!canType), [canType, state]);
  useEffect(() => collab.watching(activeTab), [collab.watching, activeTab]);
  const scale = useGuestScale(termWrap, termEl, role === 'guest');
  const progress = role === 'host' ? boot : state?.hostStatus;
  const phase = progress?.phase ?? (state && !state.hostConnected ? 'waiting' : 'loading');
  const shareUrl = typeof window === 'undefined' ? '' : `${window.location.origin}/r/${roomId}`;

  if (fatal && denied) return <AccessDenied code={fatal.code as 'UNAUTHORIZED' | 'FORBIDDEN'} roomId={roomId} lost={lostAccess} message={fatal.message} />;

  if (fatal && ['ROOM_NOT_FOUND', 'BAD_ROOM_ID'].includes(fatal.code)) {
    return (
      <main className="center" data-error={fatal.code}>
        <h1>Room not found</h1>
        <p>There is no room called “{roomId}”. Check the link, or start a new one.</p>
        <NewRoomForm />
      </main>
    );
  }

  return (
    <main className="room" data-role={role ?? ''} data-conn={conn} data-phase={phase} data-member-role={me?.role ?? ''} data-can-type={canType ? 'true' : 'false'}>
      <header className="topbar">
        <span className="brand">
          <a href="/">Tandem</a>
        </span>
        <span className="badge">room {roomId}</span>
        {role && <span className={`badge ${role}`}>{role === 'host' ? 'hosting the VM' : 'guest'}</span>}
        <RoleBadge me={me} canType={canType} />
        {state?.hostHeadless && role === 'guest' && <span className="badge">VM runs on the server’s headless host</span>}
        <span className={`badge ${conn === 'connected' ? '' : 'bad'}`}>{conn}</span>
        {state && <span className="badge">{state.guests} {state.guests === 1 ? 'guest' : 'guests'}</span>}
        <span className="people" aria-label="People in this room">
          {people.map((p) => (
            <span key={p.clientId} className={`person ${p.typing ? 'is-typing' : ''}`} title={p.typing ? `${p.name} is typing` : p.name} style={{ borderColor: p.color }}>
              {p.name}
              {p.typing && <span className="typing-dots" aria-label="typing">…</span>}
            </span>
          ))}
        </span>
        <span className="spacer" />
        {role === 'host' && mainVm && <TailscaleControl control={mainVm.tailscale} engine={mainVm.name} />}
        <span className="row" aria-label="Commands">
          <button className="secondary" title="Previous command" disabled={!commands[activeTab]} onClick={() => controls.current?.jump(-1)}>
            ↑
          </button>
          <button className="secondary" title="Next command" disabled={!commands[activeTab]} onClick={() => controls.current?.jump(1)}>
            ↓
          </button>
        </span>
        <HostSeat state={state} watching={typeof window !== 'undefined' && new URLSearchParams(window.location.search).has('watch')} onTake={() => controls.current?.take()} onGive={(peer) => controls.current?.give(peer) ?? Promise.resolve()} />
        <ShareLink url={shareUrl} />
        {role === 'host' && mainVm?.name === 'v86' && <SaveVmButton onSave={() => controls.current?.save() ?? Promise.resolve()} />}
        {role === 'host' && <ResetVmButton onReset={() => controls.current?.reset()} />}
        <NewRoomForm compact />
        {me && (me.memberId.startsWith('g:') || (me.memberId.startsWith('u:') && me.role !== 'owner')) && (
          <LeaveRoomButton roomId={roomId} guest={me.memberId.startsWith('g:')} onProblem={setNotice} />
        )}
        <AccountMenu />
      </header>
      <RoomNotices
        fatal={fatal}
        hostAway={!!state && !state.hostConnected && role === 'guest'}
        notice={notice}
        engineNotice={role === 'host' ? engineNotice : null}
        engineAction={offerReset && <ResetVmButton onReset={() => controls.current?.reset()} />}
      />
      <BootStatus progress={progress} onFailed={role === 'host' && <ResetVmButton onReset={() => controls.current?.reset()} />} />
      <nav className="tabs" role="tablist" aria-label="Terminals">
        {(state?.tabs ?? [{ id: DEFAULT_TAB, title: 'Terminal' }]).map((t) => (
          <span key={t.id} className={`tab ${t.id === activeTab ? 'active' : ''}`}>
            <button role="tab" aria-selected={t.id === activeTab} className="tab-title" onClick={() => controls.current?.show(t.id)}>
              {t.title}
            </button>
            {role === 'host' && t.id !== DEFAULT_TAB && (
              <button className="tab-close" aria-label={`Close ${t.title}`} onClick={() => controls.current?.close(t.id)}>
                ×
              </button>
            )}
          </span>
        ))}
        {role === 'host' && (state?.tabs.length ?? 1) < MAX_HOST_TABS && (
          <button className="tab-new" aria-label="New terminal" title="New terminal (another VM)" onClick={() => controls.current?.open()}>
            +
          </button>
        )}
      </nav>
      <div className="room-body">
        <div className="term-col">
          {role === 'guest' && (
            <div className="term-tools">
              {!canType && <span className="readonly-note">Read only: your keystrokes are not sent to the terminal.</span>}
              <span className="spacer" />
              <label className="check">
                <input type="checkbox" checked={scale.fit} onChange={(e) => scale.setFit(e.target.checked)} /> Fit to window
                {scale.fit && scale.scale < 1 && <span className="muted"> ({Math.round(scale.scale * 100)}%)</span>}
              </label>
            </div>
          )}
          <div
            ref={termWrap}
            className={`term-wrap ${canType ? '' : 'readonly'}`}
            // "Typing" means keys and pastes, not the terminal's own replies (cursor reports) that also arrive as input.
            onKeyDown={canType ? collab.typed : undefined}
            onPaste={canType ? collab.typed : undefined}
          >
            <div ref={termEl} className={`terms ${role ?? ''}`} />
          </div>
        </div>
        {role && <RoomSidebar roomId={roomId} me={me} collab={collab} tabs={state?.tabs ?? []} emit={(e, ...a) => controls.current?.emit(e, ...a)} />}
      </div>
    </main>
  );
}

function NewRoomForm({ compact = false }: { compact?: boolean }) {
  return (
    <form method="post" action="/rooms/new" className="row">
      {!compact && <input name="name" placeholder="Room name" maxLength={80} />}
      <button type={compact ? 'submit' : 'submit'} className={compact ? 'secondary' : ''}>
        New room
      </button>
    </form>
  );
}

/** "Reset VM", with a confirm step: it throws away the files the guest wrote in this browser. */
function LeaveRoomButton({ roomId, guest, onProblem }: { roomId: string; guest: boolean; onProblem: (text: string) => void }) {
  return (
    <button
      className="secondary"
      title={guest ? 'Leave this room and forget your guest seat in this browser' : 'Leave this room; it is removed from your dashboard'}
      onClick={() => {
        if (!window.confirm(guest ? 'Leave the room? You will need the invite link again to come back.' : 'Leave the room? You will need a new invite to come back.')) return;
        void accounts.leaveRoom(roomId).then(
          () => window.location.assign('/'),
          (err) => onProblem(`Leave room: ${explain(err)}`),
        );
      }}
    >
      Leave room
    </button>
  );
}

function SaveVmButton({ onSave }: { onSave: () => Promise<void> }) {
  const [saving, setSaving] = useState(false);
  return (
    <button
      className="secondary"
      disabled={saving}
      title="Save this terminal’s VM as it is now (memory and disk) in this browser; the room’s next load restores it"
      onClick={() => {
        setSaving(true);
        void onSave().finally(() => setSaving(false));
      }}
    >
      {saving ? 'Saving…' : 'Save VM'}
    </button>
  );
}

function ResetVmButton({ onReset }: { onReset: () => void }) {
  return (
    <button
      className="secondary"
      title="Forget this room’s disk changes and saved VM in this browser, and boot from scratch"
      onClick={() => {
        if (window.confirm('Reset the VM? Files you created in this room’s VMs (in this browser) are deleted, and the VM boots from scratch.')) onReset();
      }}
    >
      Reset VM
    </button>
  );
}
