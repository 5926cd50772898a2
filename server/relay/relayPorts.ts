import type { MemberInfo, ServerToClientEvents } from '../../lib/shared/protocol';
import type { CoalescerOptions } from './FrameCoalescer';

/**
 * What a RoomRelay needs from and offers to its surroundings, apart from the class: the peers it
 * seats, the transport that carries its events (Socket.IO in attachRelay.ts, fakes in tests) and
 * the hooks its observers implement (the command queue, the recorder). Kept apart so an adapter
 * or an observer is written against these alone.
 */

export interface Peer {
  id: string;
  clientId: string;
  name?: string;
  wantHost: boolean;
  /** The server's own headless host browser; a human who wants to host takes its seat. */
  headless?: boolean;
  /** What this peer may do, as the access layer decided; sent to the peer with its state. */
  me?: MemberInfo;
  /** A guest reconnecting: the last sequence number it has of each tab (it gets what follows). */
  resume?: Record<string, number>;
}

/** What the relay needs from a transport; Socket.IO provides it in production, tests fake it. */
export interface RelayTransport {
  send<E extends keyof ServerToClientEvents>(peerId: string, event: E, ...args: Parameters<ServerToClientEvents[E]>): void;
  /** Send to every guest but `except`, encoding the frame once. */
  broadcastGuests<E extends keyof ServerToClientEvents>(
    except: readonly string[],
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ): void;
  /** Bytes accepted for this peer but not yet written to its connection. */
  pendingBytes(peerId: string): number;
  /** Guests join the broadcast group, hosts leave it. */
  setGuest(peerId: string, isGuest: boolean): void;
  /** Drops a peer's connection (a host replaced by its own newer connection). */
  disconnect(peerId: string): void;
}

/** Observers of a room's stream: the command queue and recordings hang off these. */
export interface RelayHooks {
  onOutput?(roomId: string, tab: string, data: string): void;
  onHostChange?(roomId: string, connected: boolean): void;
  /** The recorder (server/recordings): every frame as relayed, before any guest gets it. */
  record?(roomId: string, tab: string, seq: number, hostSeq: number, data: string, time: number): void;
  /** A terminal's size as applied (after the output drawn at the old size went out). */
  resized?(roomId: string, tab: string, cols: number, rows: number): void;
  /** What the recordings know of a room whose relay starts (after a restart): tabs, sequence numbers, screens. */
  restore?(roomId: string): RelayRestore | null;
  /** Frames after `seq` for a resuming guest, or null (it then gets a snapshot). */
  since?(roomId: string, tab: string, seq: number): { seq: number; data: string }[] | null;
}

export interface RelayRestore {
  /** The page that hosted when the server stopped: its seat is kept for it a few seconds. */
  hostClientId: string | null;
  tabs: { id: string; title: string; seq: number; hostSeq: number; cols: number; rows: number; replay: string[] }[];
}

export interface RelayOptions {
  /** Output coalescing (tests shorten or lengthen the frame interval). */
  frames?: CoalescerOptions;
}
