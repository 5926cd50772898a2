import { TandemError } from '../../lib/shared/errors';
import { MAX_RAISED_HANDS, type ControlEvent, type ControlState } from '../../lib/shared/protocol';
import type { Access } from './RoomAccess';

export { DEFAULT_CONTROL, parseControl } from '../../lib/shared/protocol';

/** Whether `access` may type under `control`: a write role, and in `single` mode the keyboard. */
export function mayType(control: ControlState, access: Access): boolean {
  return access.canType && (control.mode === 'all' || control.holder === access.memberId);
}

/**
 * Who holds the keyboard, as a pure function of the current state and one request. Managers
 * (owner, instructor) set the mode, grant and take; anyone raises or lowers their own hand; the
 * holder may release. `canTypeMember` says whether a grantee has a write role at all: the
 * keyboard never lifts a viewer above their role (promote them first).
 */
export function applyControl(
  state: ControlState,
  actor: Access,
  event: ControlEvent,
  payload: { mode?: 'all' | 'single'; memberId?: string },
  canTypeMember: (memberId: string) => boolean,
): ControlState {
  const manager = actor.canManage;
  const needManager = () => {
    if (!manager) throw new TandemError('FORBIDDEN', 'only the owner or an instructor controls the keyboard');
  };
  const hands = state.hands.filter((h) => h !== actor.memberId);
  switch (event) {
    case 'control:mode':
      needManager();
      // Entering single mode, the manager who switched holds the keyboard until they hand it on.
      return payload.mode === 'single'
        ? { mode: 'single', holder: state.mode === 'single' ? state.holder : actor.memberId, hands: state.hands }
        : { mode: 'all', holder: null, hands: state.hands };
    case 'control:grant': {
      needManager();
      const to = payload.memberId!;
      if (!canTypeMember(to)) throw new TandemError('FORBIDDEN', 'that member may not type: make them a driver first');
      return { mode: 'single', holder: to, hands: state.hands.filter((h) => h !== to) };
    }
    case 'control:take':
      needManager();
      return { mode: 'single', holder: actor.memberId, hands };
    case 'control:release':
      if (state.holder !== actor.memberId) throw new TandemError('CONFLICT', 'you do not hold the keyboard');
      return { ...state, holder: null };
    case 'control:request':
      if (state.hands.includes(actor.memberId)) return state;
      if (state.hands.length >= MAX_RAISED_HANDS) throw new TandemError('RATE_LIMITED', 'too many raised hands already');
      return { ...state, hands: [...state.hands, actor.memberId] };
    case 'control:lower':
      return { ...state, hands };
  }
}
