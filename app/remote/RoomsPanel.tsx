import { MAX_BATCH_ROOMS } from '../../lib/shared/limits';
import type { RoomInfo } from './remoteApi';

/**
 * The console's room picker: the rooms the key reaches, each with its host dot and a Watch toggle,
 * selected for the next run (at most MAX_BATCH_ROOMS, the batch route's cap).
 */
export default function RoomsPanel({
  rooms,
  selected,
  onSelect,
  watch,
  onWatch,
}: {
  rooms: RoomInfo[] | null;
  selected: string[];
  onSelect: (ids: string[]) => void;
  /** The room whose terminal is shown below the results, if any. */
  watch: string | null;
  onWatch: (id: string | null) => void;
}) {
  const toggle = (id: string) => onSelect(selected.includes(id) ? selected.filter((x) => x !== id) : selected.length >= MAX_BATCH_ROOMS ? selected : [...selected, id]);
  return (
    <section className="remote-panel" aria-labelledby="remote-rooms-h">
      <div className="remote-panel-head">
        <h2 id="remote-rooms-h">2. Rooms</h2>
        {rooms && rooms.length > 0 && (
          <span className="row">
            <button type="button" className="secondary remote-small" onClick={() => onSelect(rooms.slice(0, MAX_BATCH_ROOMS).map((r) => r.id))}>
              All
            </button>
            <button type="button" className="secondary remote-small" onClick={() => onSelect([])}>
              None
            </button>
          </span>
        )}
      </div>
      {!rooms && <p className="remote-muted">Load the rooms with your key.</p>}
      {rooms?.length === 0 && <p className="remote-muted">No rooms yet.</p>}
      {rooms && rooms.length > 0 && (
        <ul className="remote-rooms" aria-label="Rooms">
          {rooms.map((r) => (
            <li key={r.id} className={`remote-room ${selected.includes(r.id) ? 'selected' : ''}`} data-room={r.id}>
              <label className="remote-room-pick">
                <input type="checkbox" checked={selected.includes(r.id)} onChange={() => toggle(r.id)} aria-label={`Select room ${r.name} (${r.id})`} />
                <span className="remote-room-text">
                  <span className="remote-room-name">{r.name}</span>
                  <span className="remote-room-id">{r.id}</span>
                </span>
              </label>
              <span className={`remote-dot ${r.hostConnected ? 'on' : ''}`} title={r.hostConnected ? 'A host runs the VM' : 'No host: a command starts the server’s headless host (if enabled)'} />
              <button
                type="button"
                className={`secondary remote-small ${watch === r.id ? 'active' : ''}`}
                aria-pressed={watch === r.id}
                onClick={() => onWatch(watch === r.id ? null : r.id)}
              >
                {watch === r.id ? 'Watching' : 'Watch'}
              </button>
            </li>
          ))}
        </ul>
      )}
      {rooms && <p className="remote-muted">{selected.length} selected{selected.length >= MAX_BATCH_ROOMS ? ` (at most ${MAX_BATCH_ROOMS})` : ''}</p>}
    </section>
  );
}
