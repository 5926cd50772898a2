'use client';

import { useCallback, useEffect, useState } from 'react';
import { ENGINES, ROLE_LABEL, accounts, explain, type EngineName, type Me, type MyRoom } from '../../lib/browser/client/accountsApi';
import { ROOM_GUESTS, type RoomGuest } from '../../lib/shared/protocol';
import type { GuestManifest } from '../../lib/shared/GuestManifest';
import AccountMenu from './AccountMenu';
import TopBar from './TopBar';
import { useHydrated } from './useHydrated';
import { cheerpXFailedHere } from '../../lib/browser/vm/enginePreference';
import { fetchGuestManifest } from '../../lib/browser/vm/guestManifestFetch';
import Alert from './Alert';

const MAX_ROOM_NAME_CHARS = 80;
const ENGINE_LABEL: Record<EngineName, string> = { auto: 'Auto (CheerpX, else v86)', v86: 'v86 (open source, offline)', cheerpx: 'CheerpX (full Debian, online)' };

/** `/` when signed in: my rooms, rooms shared with me, and a form to create one. */
export default function Dashboard({ user }: { user: Me }) {
  const hydrated = useHydrated();
  const [rooms, setRooms] = useState<{ owned: MyRoom[]; shared: MyRoom[] } | null>(null);
  const [showArchived, setShowArchived] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  /** Whether this server has a root disk (else every room boots the small guest). */
  const [hasDisk, setHasDisk] = useState(true);
  /** A new room's engine: what will work here (v86 when the server says so or CheerpX failed in this browser). */
  const [engine, setEngine] = useState<EngineName>('auto');
  useEffect(() => {
    // An error answer keeps the defaults (it is no manifest to read a disk or an engine from).
    void fetchGuestManifest<GuestManifest & { engineChoice?: string }>('/vm/manifest.json')
      .then((m) => {
        setHasDisk(!!m.disk);
        setEngine(m.engineChoice === 'v86' || cheerpXFailedHere() ? 'v86' : 'auto');
      })
      .catch(() => {});
  }, []);

  const load = useCallback(async () => {
    try {
      setRooms(await accounts.myRooms(showArchived));
      setProblem(null);
    } catch (e) {
      setProblem(explain(e));
    }
  }, [showArchived]);
  useEffect(() => void load(), [load]);

  const create = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    // Read from the form, not from state: what was typed before the page hydrated counts too.
    const f = new FormData(e.currentTarget);
    const name = String(f.get('name') ?? '').trim();
    const engine = ENGINES.find((x) => x === f.get('engine')) ?? 'auto';
    const guest = ROOM_GUESTS.find((x) => x === f.get('guest'));
    if (!name) return setProblem('Give the room a name.');
    setCreating(true);
    setProblem(null);
    try {
      const { room } = await accounts.createRoom({ name, engine, guest });
      window.location.assign(`/r/${encodeURIComponent(room.id)}`);
    } catch (err) {
      setProblem(explain(err));
      setCreating(false);
    }
  };

  return (
    <main className="page">
      <TopBar
        end={
          <>
            <a href="/r/default" title="The open room anyone may use without signing in">
              Public room
            </a>
            <a href="/remote">Remote console</a>
            <AccountMenu user={user} />
          </>
        }
      />
      <div className="page-body">
        <section className="panel">
          <h2>New room</h2>
          <form className="row wrap" method="post" onSubmit={create}>
            <input
              className="grow"
              aria-label="Room name"
              placeholder="Room name, e.g. Pairing on the parser"
              required
              maxLength={MAX_ROOM_NAME_CHARS}
              name="name"
            />
            <select aria-label="Engine" name="engine" value={engine} onChange={(e) => setEngine(ENGINES.find((x) => x === e.target.value) ?? 'auto')} aria-describedby="engine-note">
              {ENGINES.map((en) => (
                <option key={en} value={en}>
                  {ENGINE_LABEL[en]}
                </option>
              ))}
            </select>
            <select aria-label="Guest" name="guest" defaultValue="disk" title="What v86 boots (CheerpX always runs its own Debian)">
              <option value="disk">{hasDisk ? 'Full disk (Debian: python3, git, vim…)' : 'Full disk (not built on this server: boots the small guest)'}</option>
              <option value="small">Small BusyBox guest (v86, boots in seconds)</option>
            </select>
            <button type="submit" disabled={creating || !hydrated}>
              {creating ? 'Creating…' : 'Create room'}
            </button>
          </form>
          <p id="engine-note" className="muted small-text">
            v86 is open source and runs offline. CheerpX (a full Debian) loads from Leaning Technologies’ servers, so it needs internet access,
            and is proprietary: individuals may use it freely; a business needs their commercial licence beyond evaluation.
          </p>
          <ImportCast onProblem={setProblem} />
        </section>
        <Alert text={problem} />
        <section className="panel">
          <div className="panel-head">
            <h2>My rooms</h2>
            <label className="check">
              <input type="checkbox" checked={showArchived} onChange={(e) => setShowArchived(e.target.checked)} /> Show archived
            </label>
          </div>
          <RoomList rooms={rooms?.owned} empty="You have no rooms yet. Create one above." onChanged={load} onProblem={setProblem} />
        </section>
        <section className="panel">
          <h2>Shared with me</h2>
          <RoomList rooms={rooms?.shared} empty="Nobody has shared a room with you yet. An invite link adds it here." onChanged={load} onProblem={setProblem} />
        </section>
      </div>
    </main>
  );
}

function RoomList({ rooms, empty, onChanged, onProblem }: { rooms: MyRoom[] | undefined; empty: string; onChanged: () => void; onProblem: (p: string | null) => void }) {
  if (!rooms) return <p className="muted">Loading…</p>;
  if (rooms.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className="room-list">
      {rooms.map((r) => (
        <RoomRow key={r.id} room={r} onChanged={onChanged} onProblem={onProblem} />
      ))}
    </ul>
  );
}

function RoomRow({ room, onChanged, onProblem }: { room: MyRoom; onChanged: () => void; onProblem: (p: string | null) => void }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(room.name);
  const [engine, setEngine] = useState<EngineName | ''>(room.engine ?? '');
  const [guest, setGuest] = useState<RoomGuest>(room.guest ?? 'disk');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [busy, setBusy] = useState(false);
  const isOwner = room.role === 'owner';
  const [alwaysOn, setAlwaysOn] = useState(!!room.alwaysOn);
  useEffect(() => setAlwaysOn(!!room.alwaysOn), [room.alwaysOn]);
  const [recordInput, setRecordInput] = useState(!!room.recordInput);
  useEffect(() => setRecordInput(!!room.recordInput), [room.recordInput]);

  const act = async (f: () => Promise<unknown>) => {
    setBusy(true);
    onProblem(null);
    try {
      await f();
      onChanged();
    } catch (e) {
      onProblem(explain(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <li className={`room-item ${room.archivedAt ? 'archived' : ''}`} data-room={room.id}>
      {editing ? (
        <form
          className="row grow"
          onSubmit={(e) => {
            e.preventDefault();
            void act(async () => {
              await accounts.updateRoom(room.id, { name: name.trim(), engine: engine || null, guest });
              setEditing(false);
            });
          }}
        >
          <input className="grow" aria-label="New name" autoFocus required maxLength={MAX_ROOM_NAME_CHARS} value={name} onChange={(e) => setName(e.target.value)} />
          <select aria-label="Room engine" value={engine} onChange={(e) => setEngine(ENGINES.find((x) => x === e.target.value) ?? '')} title="Applies the next time the room's VM starts">
            <option value="">Server default</option>
            {ENGINES.map((en) => (
              <option key={en} value={en}>
                {ENGINE_LABEL[en]}
              </option>
            ))}
          </select>
          <select aria-label="Room guest" value={guest} onChange={(e) => setGuest(e.target.value === 'small' ? 'small' : 'disk')} title="Applies the next time the room's VM starts">
            <option value="disk">Full disk</option>
            <option value="small">Small BusyBox guest</option>
          </select>
          <button type="submit" disabled={busy || !name.trim()}>
            Save
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setEditing(false);
              setName(room.name);
              setEngine(room.engine ?? '');
              setGuest(room.guest ?? 'disk');
            }}
          >
            Cancel
          </button>
        </form>
      ) : (
        <a className="room-item-main" href={`/r/${encodeURIComponent(room.id)}${room.replayOnly ? '/replay' : ''}`}>
          <span className="room-item-name">{room.name}</span>
          <span className="room-item-meta">
            <span className={`badge role-${room.role}`}>{ROLE_LABEL[room.role]}</span>
            {room.live && <span className="badge live">live</span>}
            {room.alwaysOn && <span className="badge">always on</span>}
            {room.engine && <span className="badge">{room.engine}</span>}
            {room.guest === 'small' && <span className="badge">small guest</span>}
            {room.archivedAt && <span className="badge">archived</span>}
            {room.replayOnly && <span className="badge">recording</span>}
            <span className="muted">created {new Date(room.createdAt).toLocaleDateString()}</span>
          </span>
        </a>
      )}
      {!editing && (
        <span className="row">
          {!room.replayOnly && (
            <a className="button" href={`/r/${encodeURIComponent(room.id)}`}>
              Open
            </a>
          )}
          <a className="button secondary" href={`/r/${encodeURIComponent(room.id)}/replay`}>
            Replay
          </a>
          {isOwner && !confirmDelete && (
            <>
              <OwnerSwitch
                label="Always on"
                title="The server keeps this room's VM running in its own headless browser, even with nobody in the room"
                disabled={busy || !!room.archivedAt}
                value={alwaysOn}
                set={setAlwaysOn}
                save={(on) => accounts.updateRoom(room.id, { alwaysOn: on })}
                onChanged={onChanged}
                onProblem={onProblem}
              />
              <OwnerSwitch
                label="Record typing"
                title="Recordings keep who typed what (each person's keystrokes). Off by default for privacy"
                disabled={busy}
                value={recordInput}
                set={setRecordInput}
                save={(on) => accounts.updateRoom(room.id, { recordInput: on })}
                onChanged={onChanged}
                onProblem={onProblem}
              />
              <button className="secondary" disabled={busy} onClick={() => setEditing(true)}>
                Edit
              </button>
              <button className="secondary" disabled={busy} onClick={() => void act(() => accounts.updateRoom(room.id, { archived: !room.archivedAt }))}>
                {room.archivedAt ? 'Unarchive' : 'Archive'}
              </button>
              <button className="secondary danger" disabled={busy} onClick={() => setConfirmDelete(true)}>
                Delete
              </button>
            </>
          )}
          {isOwner && confirmDelete && (
            <span className="row confirm" role="group" aria-label="Confirm delete">
              <span>Delete “{room.name}” for everyone?</span>
              <button className="danger" disabled={busy} onClick={() => void act(() => accounts.deleteRoom(room.id))}>
                Delete for good
              </button>
              <button className="secondary" onClick={() => setConfirmDelete(false)}>
                Keep
              </button>
            </span>
          )}
        </span>
      )}
    </li>
  );
}

/** A room setting the owner switches on and off: shown at once, put back if the server refuses (say, too many always-on rooms). */
function OwnerSwitch(o: {
  label: string;
  title: string;
  disabled: boolean;
  value: boolean;
  set: (v: boolean) => void;
  save: (v: boolean) => Promise<unknown>;
  onChanged: () => void;
  onProblem: (p: string | null) => void;
}) {
  return (
    <label className="check" title={o.title}>
      <input
        type="checkbox"
        disabled={o.disabled}
        checked={o.value}
        onChange={(e) => {
          const on = e.target.checked;
          o.set(on);
          o.onProblem(null);
          o.save(on).then(o.onChanged, (err) => {
            o.set(!on);
            o.onProblem(explain(err));
          });
        }}
      />{' '}
      {o.label}
    </label>
  );
}

/** Imports an asciicast v2 file as a read-only replay room of one's own, then opens its replay. */
function ImportCast({ onProblem }: { onProblem: (p: string | null) => void }) {
  const [busy, setBusy] = useState(false);
  return (
    <label className="check" title="An asciicast v2 recording (asciinema's .cast) becomes a room you can replay">
      Import a recording (.cast):{' '}
      <input
        type="file"
        accept=".cast,application/x-asciicast"
        aria-label="Import a .cast recording"
        disabled={busy}
        onChange={async (e) => {
          const file = e.target.files?.[0];
          if (!file) return;
          setBusy(true);
          onProblem(null);
          try {
            const r = await fetch(`/api/recordings/import?name=${encodeURIComponent(file.name.replace(/\.cast$/, ''))}`, {
              method: 'POST',
              headers: { 'content-type': 'application/x-asciicast' },
              body: file,
            });
            const body = await r.json();
            if (!r.ok) throw new Error(body?.error?.message ?? `HTTP ${r.status}`);
            window.location.assign(body.url);
          } catch (err) {
            onProblem(`Import: ${err instanceof Error ? err.message : String(err)}`);
            e.target.value = '';
          } finally {
            setBusy(false);
          }
        }}
      />
    </label>
  );
}
