import crypto from 'node:crypto';
import { TandemError } from '../../lib/shared/errors';
import type { HostCandidate } from '../../lib/shared/protocol';
import type { Peer, RelayTransport } from './RoomRelay';

/** A host asked to yield (host:yield) that has not given the VM away in this time loses the seat anyway. */
export const YIELD_TIMEOUT_MS = 15_000;

/** What the handover needs from its room's relay. */
export interface HandoverRoom {
  peer(id: string): Peer | undefined;
  peers(): Iterable<Peer>;
  hostId(): string | null;
  /** Moves the seat to `peerId` (the current host, if any, becomes a guest). */
  moveHost(peerId: string): void;
  closed(): boolean;
}

/**
 * Who may run a room's VM next (issue 11, handover), free of any transport: the host's upload key
 * for the room's VM state, "Take over" (`host:take`) and "Give host to …" (`host:give`). The server's
 * headless host is asked to yield (it saves the VM first) and loses the seat at a deadline if it
 * does not. RoomRelay owns the seat; this decides who gets it.
 */
export class HostHandover {
  /**
   * The key the current host's uploads of the room's VM state carry. It stays valid while the seat
   * is empty (the leaving host's last upload may arrive after its socket closed) and changes when
   * the next host sits down: from then on only the new host may upload.
   */
  private key: string | null = null;
  /** A host asked to yield to `to`; it loses the seat at the deadline if it has not given it. */
  private yielding: { to: string; timer: ReturnType<typeof setTimeout> } | null = null;

  constructor(
    private room: HandoverRoom,
    private transport: Pick<RelayTransport, 'send'>,
  ) {}

  /** A new host sat down: a new upload key, and any request to yield is moot. */
  seated(): void {
    this.key = crypto.randomBytes(18).toString('base64url');
    this.cancelYield();
  }

  /** Whether `key` may upload the room's VM state now (see `key`). */
  mayUpload(key: string): boolean {
    const want = this.key;
    if (!want || key.length !== want.length) return false;
    return crypto.timingSafeEqual(Buffer.from(key), Buffer.from(want));
  }

  /** What the room state tells the host alone: its upload key, and whom it may give the VM to. */
  forHost(): { hostKey?: string; candidates: HostCandidate[] } {
    const hostId = this.room.hostId();
    const candidates = [...this.room.peers()].filter((p) => p.id !== hostId && p.wantHost && !p.headless).map((p) => ({ peer: p.id, name: p.name ?? 'Guest' }));
    return { hostKey: this.key ?? undefined, candidates };
  }

  /** `host:take`: a guest who may host asks for the VM. */
  take(peer: Peer): void {
    const hostId = this.room.hostId();
    if (peer.id === hostId) return;
    if (!peer.wantHost) throw new TandemError('FORBIDDEN', 'you may not host this room (or you joined to watch)');
    if (!hostId) return this.room.moveHost(peer.id);
    const host = this.room.peer(hostId);
    if (!host?.headless) throw new TandemError('CONFLICT', `${host?.name ?? 'someone'} is hosting: ask them to give you the VM`);
    // The server's headless host saves the VM first, then gives it (host:give); or loses it at the deadline.
    if (this.yielding) return;
    this.transport.send(host.id, 'host:yield', { peer: peer.id, name: peer.name ?? 'Guest' });
    this.yielding = {
      to: peer.id,
      timer: setTimeout(() => {
        this.yielding = null;
        if (!this.room.closed() && this.room.peer(peer.id) && this.room.hostId() === host.id) this.room.moveHost(peer.id);
      }, YIELD_TIMEOUT_MS),
    };
  }

  /** `host:give` from the host: the VM goes to another peer who may host. */
  give(to: string): void {
    const target = this.room.peer(to);
    if (!target || to === this.room.hostId()) throw new TandemError('NOT_FOUND', 'that person is not in the room any more');
    if (!target.wantHost || target.headless) throw new TandemError('FORBIDDEN', `${target.name ?? 'that person'} may not host this room`);
    this.room.moveHost(to);
  }

  /** A peer left: a yield meant for it is off. */
  forget(peerId: string): void {
    if (this.yielding?.to === peerId) this.cancelYield();
  }

  private cancelYield(): void {
    if (this.yielding) clearTimeout(this.yielding.timer);
    this.yielding = null;
  }

  close(): void {
    this.cancelYield();
  }
}
