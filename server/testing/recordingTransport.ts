import type { RelayTransport } from '../relay/RoomRelay';

export type Sent = { to: string; event: string; payload: unknown };

/**
 * A RelayTransport that records what the relay sends, for the relays' unit tests (the integration
 * tests use real Socket.IO). `pending` sets a peer's unsent bytes; `dropped` lists disconnected peers.
 */
export function recordingTransport() {
  const sent: Sent[] = [];
  const guests = new Set<string>();
  const pending = new Map<string, number>();
  const dropped: string[] = [];
  const t: RelayTransport = {
    send: (to, event, payload) => void sent.push({ to, event, payload }),
    broadcastGuests: (except, event, payload) => {
      for (const g of guests) if (!except.includes(g)) sent.push({ to: g, event, payload });
    },
    pendingBytes: (id) => pending.get(id) ?? 0,
    setGuest: (id, isGuest) => void (isGuest ? guests.add(id) : guests.delete(id)),
    disconnect: (id) => void dropped.push(id),
  };
  return { t, sent, guests, pending, dropped, of: (to: string, event: string) => sent.filter((s) => s.to === to && s.event === event).map((s) => s.payload) };
}
