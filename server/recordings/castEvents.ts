/**
 * The event lines a recording is made of. Each line is a JSON array whose first three elements are
 * an asciicast v2 event (`[seconds, code, data]`), so a segment file reads as asciicast; Tandem
 * keeps what it needs beyond that in extra elements (the relay's sequence number, who typed).
 */
export type CastCode = 'o' | 'i' | 'r' | 'm';

/** Kinds of marker: command blocks (from the shell's prompt marks), people arriving and leaving. */
export type MarkKind = 'command' | 'join' | 'leave';

export interface OutputEvent {
  t: number;
  code: 'o';
  data: string;
  /** Relay sequence number of this frame (continues across server restarts). */
  seq: number;
  /** The host page's own frame number, so a host that reconnects resends only what was lost. */
  hostSeq: number;
}
export interface InputEvent {
  t: number;
  code: 'i';
  data: string;
  by: { memberId: string; name: string };
}
export interface ResizeEvent {
  t: number;
  code: 'r';
  data: string; // "COLSxROWS"
}
export interface MarkEvent {
  t: number;
  code: 'm';
  data: string; // the label players show
  kind: MarkKind;
  exitCode?: number | null;
}
export type CastEvent = OutputEvent | InputEvent | ResizeEvent | MarkEvent;

/** Seconds are kept to the millisecond: enough for replay, and lines stay short. */
export function roundT(t: number): number {
  return Math.round(t * 1000) / 1000;
}

export function encodeEvent(e: CastEvent): string {
  switch (e.code) {
    case 'o':
      return JSON.stringify([e.t, 'o', e.data, e.seq, e.hostSeq]);
    case 'i':
      return JSON.stringify([e.t, 'i', e.data, e.by]);
    case 'r':
      return JSON.stringify([e.t, 'r', e.data]);
    case 'm':
      return JSON.stringify([e.t, 'm', e.data, e.exitCode === undefined ? { kind: e.kind } : { kind: e.kind, exitCode: e.exitCode }]);
  }
}

/** One stored line back into an event; null for anything that is not one (a header, a torn last line). */
export function decodeEvent(line: string): CastEvent | null {
  let a: unknown;
  try {
    a = JSON.parse(line);
  } catch {
    return null;
  }
  if (!Array.isArray(a) || typeof a[0] !== 'number' || typeof a[2] !== 'string') return null;
  const [t, code, data] = a as [number, string, string];
  switch (code) {
    case 'o':
      return { t, code, data, seq: Number(a[3]) || 0, hostSeq: Number(a[4]) || 0 };
    case 'i': {
      const by = (a[3] ?? {}) as { memberId?: string; name?: string };
      return { t, code, data, by: { memberId: String(by.memberId ?? ''), name: String(by.name ?? '') } };
    }
    case 'r':
      return { t, code, data };
    case 'm': {
      const x = (a[3] ?? {}) as { kind?: MarkKind; exitCode?: number | null };
      return { t, code, data, kind: x.kind ?? 'command', ...(x.exitCode !== undefined ? { exitCode: x.exitCode } : {}) };
    }
  }
  return null;
}

/** The plain asciicast v2 form of an event (what exports contain). */
export function plainEvent(e: CastEvent): [number, CastCode, string] {
  return [e.t, e.code, e.data];
}
