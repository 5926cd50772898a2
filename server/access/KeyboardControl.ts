import type { ClientPayload, ControlEvent, ControlState } from '../../lib/shared/protocol';
import { applyControl, mayType } from './RoomControl';
import type { Access } from './RoomAccess';

/**
 * Where control states are kept between restarts and shown to everyone: the room's Yjs document
 * (server/collab/YjsDocs.ts) mirrors each state the authority sets. The mirror never decides.
 */
export interface ControlMirror {
  /** The state last stored for the room (the default when none). */
  load(roomId: string): ControlState;
  save(roomId: string, state: ControlState): void;
}

/**
 * Who holds each room's keyboard: the one authority. Keystrokes (server/relay) and the control
 * requests are judged here from the server's own copy; the Yjs document only mirrors it (a client's
 * edit of the mirror is put back and never lets anyone type). A room's entry is dropped with the
 * room (`forget`): it reloads from the mirror when the room is used again.
 */
export class KeyboardControl {
  private states = new Map<string, ControlState>();

  constructor(
    private o: {
      mirror: ControlMirror;
      /** Whether a member may type at all (their role): the keyboard never lifts a viewer above it. */
      memberCanType(roomId: string, memberId: string): boolean;
    },
  ) {}

  get(roomId: string): ControlState {
    let s = this.states.get(roomId);
    if (!s) this.states.set(roomId, (s = this.o.mirror.load(roomId)));
    return s;
  }

  mayType(roomId: string, access: Access): boolean {
    return mayType(this.get(roomId), access);
  }

  /** One control request (`control:*` event, its payload validated) from `actor`; throws TandemError (FORBIDDEN, CONFLICT, RATE_LIMITED). */
  request<E extends ControlEvent>(roomId: string, actor: Access, event: E, msg: ClientPayload<E>): void {
    this.set(roomId, applyControl(this.get(roomId), actor, event, msg, (m) => this.o.memberCanType(roomId, m)));
  }

  /** After roles changed: a holder who may no longer type loses the keyboard. */
  recheck(roomId: string): void {
    const s = this.get(roomId);
    if (s.holder && !this.o.memberCanType(roomId, s.holder)) this.set(roomId, { ...s, holder: null });
  }

  /** Drops the room's entry (its relay was reaped, or the room deleted). */
  forget(roomId: string): void {
    this.states.delete(roomId);
  }

  /** Rooms with an entry now (tests check reaping). */
  get size(): number {
    return this.states.size;
  }

  private set(roomId: string, state: ControlState): void {
    this.states.set(roomId, state);
    this.o.mirror.save(roomId, state);
  }
}
