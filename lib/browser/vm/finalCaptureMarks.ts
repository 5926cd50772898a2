import type { RoomStateInfo } from '../../shared/roomState';

/**
 * A closing page remembers (synchronously: localStorage) the id of the final state it handed on,
 * so that this browser, opening the room again, knows that state is newer than its own local copy
 * (lib/browser/room/finalState.ts). A mark is removed once a restore has downloaded that state, and
 * the rest are bounded (pruneFinalCaptures, as a host page starts): one per room ever hosted would
 * otherwise stay in the browser for good.
 */
const PREFIX = 'tandem-final-state:';
const markKey = (room: string) => `${PREFIX}${room}`;

/** A mark older than this is dropped: its state has long been restored, or replaced on the server. */
export const FINAL_MARK_MAX_AGE_MS = 3 * 24 * 3600 * 1000;
/** At most this many marks are kept (the newest): one per room this browser hosted lately. */
export const MAX_FINAL_MARKS = 32;

interface Mark {
  id: string;
  at: number;
}

/** Browsers may refuse storage altogether (privacy settings throw on access). */
function storage(): Storage | null {
  try {
    return localStorage;
  } catch {
    return null;
  }
}

/** A stored mark; a bare id is one written before marks carried their time (dated on pruning). */
function readMark(raw: string | null): (Mark & { dated: boolean }) | null {
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as Partial<Mark> | null;
    if (v && typeof v.id === 'string' && typeof v.at === 'number') return { id: v.id, at: v.at, dated: true };
  } catch {
    /* a bare id */
  }
  return { id: raw, at: 0, dated: false };
}

export function rememberFinalCapture(room: string, captureId: string, store = storage(), now = Date.now()): void {
  try {
    store?.setItem(markKey(room), JSON.stringify({ id: captureId, at: now } satisfies Mark));
  } catch {
    // Storage refused (private mode, full): this browser then restores its own copy as before.
  }
}

/** Whether `info` is the final state this browser's page sent as it closed (see rememberFinalCapture). */
export function isOwnFinalCapture(room: string, info: RoomStateInfo, store = storage()): boolean {
  try {
    return !!info.manifest.captureId && readMark(store?.getItem(markKey(room)) ?? null)?.id === info.manifest.captureId;
  } catch {
    return false;
  }
}

/** A restore downloaded the state `info` names: its mark (if it is this one) has served. */
export function forgetFinalCapture(room: string, info: RoomStateInfo, store = storage()): void {
  try {
    if (isOwnFinalCapture(room, info, store)) store?.removeItem(markKey(room));
  } catch {
    /* storage refused: nothing to forget */
  }
}

/**
 * Drops marks older than FINAL_MARK_MAX_AGE_MS and all but the newest MAX_FINAL_MARKS. A mark with
 * no time (written before marks had one) is dated now, so it too ages out.
 */
export function pruneFinalCaptures(store = storage(), now = Date.now()): void {
  try {
    if (!store) return;
    const marks: { key: string; at: number }[] = [];
    for (let i = 0; i < store.length; i++) {
      const key = store.key(i);
      if (key?.startsWith(PREFIX)) marks.push({ key, at: 0 });
    }
    for (const m of marks) {
      const mark = readMark(store.getItem(m.key));
      if (mark && !mark.dated) store.setItem(m.key, JSON.stringify({ id: mark.id, at: now } satisfies Mark));
      m.at = mark?.dated ? mark.at : now;
    }
    marks.sort((a, b) => b.at - a.at);
    marks.forEach((m, i) => {
      if (i >= MAX_FINAL_MARKS || now - m.at > FINAL_MARK_MAX_AGE_MS) store.removeItem(m.key);
    });
  } catch {
    /* storage refused: nothing kept to prune */
  }
}
