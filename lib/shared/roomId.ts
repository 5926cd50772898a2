/** A room's id: lowercase letters, digits and dashes (a module of its own, without zod, for the final-state worker). */
export const ROOM_ID_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
