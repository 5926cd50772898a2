/** Limits the page and the server both rely on: each defined once, so they cannot disagree. */

/** Terminals in one room: the relay refuses a tab past it (and splits a room's mirror memory over this many). */
export const MAX_TABS_PER_ROOM = 8;
/**
 * Terminals the host page offers to open. Each is its own VM in the host's browser (hundreds of MB
 * and a core under load), so the page stops below the relay's cap.
 */
export const MAX_HOST_TABS = Math.min(4, MAX_TABS_PER_ROOM);
/** Rooms one POST /api/commands/batch may name; /remote lets you select as many. */
export const MAX_BATCH_ROOMS = 50;
