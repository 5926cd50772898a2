'use client';

import type { RoomMe } from '../../../lib/browser/client/accountsApi';
import type { ClientToServerEvents, ControlEvent } from '../../../lib/shared/protocol';
import type { ControlState, PresentUser } from './useRoomCollab';

export type EmitControl = <E extends ControlEvent>(event: E, ...args: Parameters<ClientToServerEvents[E]>) => void;

/**
 * The room's keyboard: everyone with a write role types ("all"), or one holder at a time
 * ("single"). The state comes from the Yjs map the server writes; actions go to the server.
 */
export default function ControlPanel({
  me,
  control,
  nameOf,
  emit,
}: {
  me: RoomMe;
  control: ControlState;
  nameOf: (memberId: string) => string;
  emit: EmitControl;
}) {
  const mine = control.holder === me.memberId;
  const handUp = control.hands.includes(me.memberId);
  // A hand asks for the keyboard (single mode) or, for a viewer, to be let type at all; managers just take it.
  const mayRaise = !me.canManage && (control.mode === 'single' || !me.canType);
  return (
    <section className="side-section" aria-label="Keyboard control" data-mode={control.mode}>
      <h3>Keyboard</h3>
      {me.canManage && (
        <div className="segmented" role="radiogroup" aria-label="Who may type">
          <button role="radio" aria-checked={control.mode === 'all'} className={control.mode === 'all' ? 'on' : ''} onClick={() => emit('control:mode', { mode: 'all' })}>
            Everyone who may type
          </button>
          <button role="radio" aria-checked={control.mode === 'single'} className={control.mode === 'single' ? 'on' : ''} onClick={() => emit('control:mode', { mode: 'single' })}>
            One at a time
          </button>
        </div>
      )}
      <p className="small-text">
        {control.mode === 'all'
          ? 'Every driver, instructor and owner may type.'
          : control.holder
            ? `${mine ? 'You have' : `${nameOf(control.holder)} has`} the keyboard.`
            : 'Nobody has the keyboard.'}
      </p>
      {control.hands.length > 0 && (
        <p className="small-text">
          Raised hands: {control.hands.map((h) => nameOf(h)).join(', ')}
        </p>
      )}
      <div className="row wrap">
        {!mine &&
          (mayRaise || handUp) &&
          (handUp ? (
            <button className="secondary small" onClick={() => emit('control:lower', {})}>
              Lower hand
            </button>
          ) : (
            <button className="secondary small" onClick={() => emit('control:request', {})}>
              Raise hand
            </button>
          ))}
        {mine && control.mode === 'single' && (
          <button className="secondary small" onClick={() => emit('control:release', {})}>
            Release keyboard
          </button>
        )}
        {me.canManage && control.mode === 'single' && !mine && (
          <button className="secondary small" onClick={() => emit('control:take', {})}>
            {control.holder ? 'Take back' : 'Take keyboard'}
          </button>
        )}
      </div>
      {me.canManage && control.hands.length > 0 && (
        <ul className="hand-list">
          {control.hands
            .filter((h) => h !== me.memberId)
            .map((h) => (
              <li key={h} className="row">
                <span className="grow member-name">{nameOf(h)}</span>
                <button className="small" onClick={() => emit('control:grant', { memberId: h })}>
                  Give keyboard
                </button>
              </li>
            ))}
        </ul>
      )}
    </section>
  );
}

export function presentName(people: PresentUser[], fallback: (id: string) => string | undefined) {
  return (memberId: string) => people.find((p) => p.memberId === memberId)?.name ?? fallback(memberId) ?? 'someone';
}
