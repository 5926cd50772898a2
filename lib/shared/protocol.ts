/**
 * The one protocol between browsers and the server. Both sides import this file.
 * Terminal bytes travel as Socket.IO events; every inbound payload is validated with the schemas
 * below before anything acts on it. Bump PROTOCOL_VERSION on any incompatible change: the server
 * refuses other versions at connect with PROTOCOL_MISMATCH.
 */
import { z } from 'zod';
import { ERROR_CODES, TandemError, type ErrorCode } from './errors';
import { roleSchema } from './roles';
import { ROOM_ID_RE } from './roomId';

/** 2: RoomState's `role` (a seat) renamed `seat`. */
export const PROTOCOL_VERSION = 2;

/** Caps on inbound payloads, in bytes of UTF-16 string length (an upper bound for UTF-8 ≤ 3×). */
export const MAX_OUTPUT_CHUNK_BYTES = 64 * 1024;
export const MAX_INPUT_CHUNK_BYTES = 4 * 1024;
/** Socket.IO drops a connection sending a frame over this many bytes (before parsing); smaller
 * oversized payloads get a named TOO_LARGE error from schema validation. */
export const MAX_SOCKET_FRAME_BYTES = 1024 * 1024;

export { ROOM_ID_RE };
export const TAB_ID_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** The guest a room's v86 boots: the server's root disk (Debian, or DISK_SOURCE) or the small bundled BusyBox guest. */
export const ROOM_GUESTS = ['disk', 'small'] as const;
export type RoomGuest = (typeof ROOM_GUESTS)[number];

export const DEFAULT_TAB = 'main';

export const roomIdSchema = z.string().regex(ROOM_ID_RE);
const tabSchema = z.string().regex(TAB_ID_RE);

/** Connect errors after which a client's retrying cannot help (it shows them and stops). */
export const FATAL_CONNECT_CODES: ReadonlySet<string> = new Set<ErrorCode>(['ROOM_NOT_FOUND', 'BAD_ROOM_ID', 'PROTOCOL_MISMATCH', 'BAD_MESSAGE', 'UNAUTHORIZED', 'FORBIDDEN']);

/** Sent in the Socket.IO handshake (`auth`). */
export const handshakeSchema = z.object({
  v: z.number().int(),
  room: z.string().max(200),
  /** Stable per browser tab; lets a returning host be recognised. */
  clientId: z.string().min(8).max(64),
  /** Ask to host the VM if nobody does. */
  wantHost: z.boolean().default(true),
  name: z.string().max(64).optional(),
  /** Signed by the server for its own headless host browser (lib/auth/hostToken.ts). */
  hostToken: z.string().max(300).optional(),
  /** Reconnecting: the last relay sequence number this page has of each tab; it gets the frames after it. */
  resume: z
    .record(z.string().regex(TAB_ID_RE), z.number().int().nonnegative())
    .refine((r) => Object.keys(r).length <= 16, 'resume names at most 16 tabs')
    .optional(),
});
export type Handshake = z.infer<typeof handshakeSchema>;

// ---- client → server ----
export const termOutSchema = z.object({
  tab: tabSchema,
  /** The host's own sequence number for this tab, starting at 1; duplicates are dropped. */
  seq: z.number().int().positive(),
  data: z.string().max(MAX_OUTPUT_CHUNK_BYTES),
});
export const termInSchema = z.object({ tab: tabSchema, data: z.string().min(1).max(MAX_INPUT_CHUNK_BYTES) });
export const termResizeSchema = z.object({
  tab: tabSchema,
  cols: z.number().int().min(2).max(500),
  rows: z.number().int().min(1).max(300),
});
export const termSyncSchema = z.object({ tab: tabSchema });
export const MAX_TAB_TITLE_CHARS = 40;
export const tabOpenSchema = z.object({ tab: tabSchema, title: z.string().trim().min(1).max(MAX_TAB_TITLE_CHARS) });
export const tabCloseSchema = z.object({ tab: tabSchema });
/** A guest who may host asks for the VM: granted at once when nobody hosts, or from the server's headless host. */
export const hostTakeSchema = z.object({}).strict();
/** The host gives the VM to another peer (one of RoomState.candidates), after uploading its state. */
export const hostGiveSchema = z.object({ to: z.string().min(1).max(64) }).strict();
export const hostStatusSchema = z.object({
  tab: tabSchema,
  phase: z.enum(['loading', 'booting', 'ready', 'failed']),
  progress: z.number().min(0).max(1),
  message: z.string().max(500).default(''),
  stopped: z.boolean().optional(),
});

// ---- the VM's graphical screen (/alpine) ----
/** A screen frame is a data: URL (JPEG, WebP or PNG, base64); at most this many characters. */
export const MAX_SCREEN_FRAME_BYTES = 256 * 1024;
/** The server passes at most one frame per this interval to guests (the latest one wins). */
export const MIN_SCREEN_FRAME_INTERVAL_MS = 100;
export const MAX_SCREEN_INPUT_EVENTS = 64;
export const MAX_SCREEN_PIXELS = 2048;
const SCREEN_DATA_URL_RE = /^data:image\/(?:jpeg|webp|png);base64,[A-Za-z0-9+/]+={0,2}$/;
export const screenFrameSchema = z.object({
  /** The host's own frame counter, starting at 1. */
  seq: z.number().int().positive(),
  width: z.number().int().min(1).max(MAX_SCREEN_PIXELS),
  height: z.number().int().min(1).max(MAX_SCREEN_PIXELS),
  data: z.string().max(MAX_SCREEN_FRAME_BYTES).regex(SCREEN_DATA_URL_RE, 'a screen frame is a base64 JPEG, WebP or PNG data: URL'),
});
/** One keyboard or mouse event for the VM's screen; keys by KeyboardEvent.code (layout-free). */
export const screenInputEventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('key'), code: z.string().regex(/^[A-Za-z0-9]{1,32}$/), down: z.boolean() }),
  z.object({
    kind: z.literal('mouse'),
    /** Relative motion in screen pixels (PS/2 mice are relative). */
    dx: z.number().int().min(-4096).max(4096),
    dy: z.number().int().min(-4096).max(4096),
    /** Bit 0 left, 1 right, 2 middle (MouseEvent.buttons). */
    buttons: z.number().int().min(0).max(7),
  }),
  z.object({ kind: z.literal('wheel'), dy: z.number().int().min(-100).max(100) }),
]);
export const screenInputSchema = z.object({ events: z.array(screenInputEventSchema).min(1).max(MAX_SCREEN_INPUT_EVENTS) });

export type ScreenFrame = z.infer<typeof screenFrameSchema>;
export type ScreenInputEvent = z.infer<typeof screenInputEventSchema>;
export type ScreenInput = z.infer<typeof screenInputSchema>;

export type TermOut = z.infer<typeof termOutSchema>;
export type TermIn = z.infer<typeof termInSchema>;
export type TermResize = z.infer<typeof termResizeSchema>;
export type HostStatus = z.infer<typeof hostStatusSchema>;

/** A connection's seat in a room: the one host (runs the VM) or a guest. Not a membership role (lib/shared/roles.ts). */
export const seatSchema = z.enum(['host', 'guest']);
export type Seat = z.infer<typeof seatSchema>;

/** Room roles (drizzle/schema.ts ROLES), ascending. */
export type { Role as MemberRole } from './roles';

/** What I may do in this room; sent to me alone, again whenever my membership role changes. */
export const memberInfoSchema = z.object({
  /** `u:<userId>`, `g:<guestId>`, `a:<clientId>` (open rooms), `h:headless` (the server's host). */
  memberId: z.string(),
  name: z.string(),
  /** Null for visitors of an open room (no membership). */
  role: roleSchema.nullable(),
  canType: z.boolean(),
  canHost: z.boolean(),
  canManage: z.boolean(),
});
export type MemberInfo = z.infer<typeof memberInfoSchema>;

/** Who may type: everyone with a write role, or only the holder (one driver at a time). */
export type ControlMode = 'all' | 'single';
export interface ControlState {
  mode: ControlMode;
  holder: string | null;
  /** Raised hands, oldest first (member ids). */
  hands: string[];
}
export const MAX_RAISED_HANDS = 200;
export const DEFAULT_CONTROL: ControlState = { mode: 'all', holder: null, hands: [] };

/**
 * A control state read from an untrusted place (the Yjs document's `control` map), or the
 * default: the one parser, used by the server (loading a room) and the page (rendering it).
 */
export function parseControl(raw: unknown): ControlState {
  const r = raw as Partial<ControlState> | null | undefined;
  if (!r || (r.mode !== 'all' && r.mode !== 'single')) return { ...DEFAULT_CONTROL };
  const hands = Array.isArray(r.hands) ? r.hands.filter((h): h is string => typeof h === 'string').slice(0, MAX_RAISED_HANDS) : [];
  return { mode: r.mode, holder: typeof r.holder === 'string' ? r.holder : null, hands };
}
const memberIdSchema = z.string().regex(/^[ugah]:[A-Za-z0-9-]{1,64}$/);
export const controlModeSchema = z.object({ mode: z.enum(['all', 'single']) });
export const controlGrantSchema = z.object({ memberId: memberIdSchema });
/** No payload: `{}`, or nothing at all (`emit('control:take')`). */
export const controlEmptySchema = z.object({}).strict().default({});

// ---- server → client ----
export const tabInfoSchema = z.object({ id: z.string(), title: z.string() });
export type TabInfo = z.infer<typeof tabInfoSchema>;

export const hostCandidateSchema = z.object({ peer: z.string(), name: z.string() });
export type HostCandidate = z.infer<typeof hostCandidateSchema>;

export const roomStateSchema = z.object({
  room: z.string(),
  /** This connection's seat (host or guest). */
  seat: seatSchema,
  hostConnected: z.boolean(),
  /** The host is the server's headless browser (a human opening the room takes over). */
  hostHeadless: z.boolean(),
  /** Latest host VM status, so a late guest sees boot progress too. */
  hostStatus: hostStatusSchema.nullable(),
  guests: z.number().int().nonnegative(),
  /** Terminals in the room, in order; `main` always exists. */
  tabs: z.array(tabInfoSchema),
  /** Present in the state sent to me alone (on join and when my access changes); keep the last one. */
  me: memberInfoSchema.optional(),
  /** Who hosts now (shown as "<name> is now hosting" when it changes); null while nobody does. */
  hostName: z.string().nullable().optional(),
  /** To the host alone: the key its uploads of the room's VM state carry (x-host-key). */
  hostKey: z.string().optional(),
  /** To the host alone: who it may give the VM to. */
  candidates: z.array(hostCandidateSchema).optional(),
});
export type RoomState = z.infer<typeof roomStateSchema>;

export const snapshotSchema = z.object({
  tab: z.string(),
  /** Relay sequence number the snapshot includes; live output continues at seq + 1. */
  seq: z.number().int().nonnegative(),
  cols: z.number().int(),
  rows: z.number().int(),
  data: z.string(),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

export const outFrameSchema = z.object({ tab: z.string(), seq: z.number().int(), data: z.string() });
export type OutFrame = z.infer<typeof outFrameSchema>;
export const termAckSchema = z.object({ tab: z.string(), hostSeq: z.number().int().nonnegative() });

export const protocolErrorSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  /** The event that caused it, when there was one. */
  event: z.string().optional(),
});
export type ProtocolErrorPayload = z.infer<typeof protocolErrorSchema>;

/** Server → client: event name → the schema of its payload. The typed event map below is derived from it. */
export const serverEventSchemas = {
  'room:state': roomStateSchema,
  'term:snapshot': snapshotSchema,
  'term:out': outFrameSchema,
  /** To the host only: keystrokes from anyone in the room. */
  'term:in': termInSchema,
  /** To a host page that reconnected: the last of its frames the room has; it resends the ones after. */
  'term:ack': termAckSchema,
  'term:resize': termResizeSchema,
  'room:error': protocolErrorSchema,
  /** The host VM's screen (latest frame at join, then live at a capped rate). */
  'screen:frame': screenFrameSchema,
  /** To the host only: keyboard and mouse from guests who may type. */
  'screen:input': screenInputSchema,
  /** To the host only: `to` asked for the VM; upload the state, then `host:give` it. */
  'host:yield': hostCandidateSchema,
} as const;
export type ServerEvent = keyof typeof serverEventSchemas;
export type ServerToClientEvents = { [E in ServerEvent]: (payload: z.output<(typeof serverEventSchemas)[E]>) => void };

// ---- client → server ----
/** The terminal and screen events (handled by server/relay/RoomRelay.ts). */
export const inboundSchemas = {
  'term:out': termOutSchema,
  'term:in': termInSchema,
  'term:resize': termResizeSchema,
  'term:sync': termSyncSchema,
  'host:status': hostStatusSchema,
  'tab:open': tabOpenSchema,
  'tab:close': tabCloseSchema,
  'screen:frame': screenFrameSchema,
  'screen:input': screenInputSchema,
  'host:take': hostTakeSchema,
  'host:give': hostGiveSchema,
} as const;
export type InboundEvent = keyof typeof inboundSchemas;

/** The keyboard-control events (handled by server/access/KeyboardControl.ts, not the relay). */
export const controlSchemas = {
  'control:mode': controlModeSchema,
  'control:grant': controlGrantSchema,
  'control:take': controlEmptySchema,
  'control:request': controlEmptySchema,
  'control:lower': controlEmptySchema,
  'control:release': controlEmptySchema,
} as const;
export type ControlEvent = keyof typeof controlSchemas;

/** Client → server: every event a browser may send, name → schema. The typed event map below is derived from it. */
export const clientEventSchemas = { ...inboundSchemas, ...controlSchemas } as const;
export type ClientEvent = keyof typeof clientEventSchemas;
export const CLIENT_EVENTS = Object.keys(clientEventSchemas) as ClientEvent[];
/** What a client sends (defaults not yet applied). */
export type ClientToServerEvents = { [E in ClientEvent]: (payload: z.input<(typeof clientEventSchemas)[E]>) => void };
/** A client event's payload once validated (defaults applied): what the server's handlers get. */
export type ClientPayload<E extends ClientEvent> = z.output<(typeof clientEventSchemas)[E]>;

/** Whether a client may send this event (own keys only: `constructor` or `__proto__` are not events). */
export function isClientEvent(event: string): event is ClientEvent {
  return Object.hasOwn(clientEventSchemas, event);
}
export function isInboundEvent(event: string): event is InboundEvent {
  return Object.hasOwn(inboundSchemas, event);
}

/**
 * The one validation of a client event's payload, against its schema: TOO_LARGE when it breaks a
 * size cap, BAD_MESSAGE otherwise (TandemError). Returns the parsed payload with defaults applied.
 */
export function parseClientEvent<E extends ClientEvent>(event: E, payload: unknown): ClientPayload<E> {
  const parsed = clientEventSchemas[event].safeParse(payload);
  // TypeScript cannot tie `event`'s schema to E through the union of schemas; the table above does.
  if (parsed.success) return parsed.data as ClientPayload<E>;
  const tooLarge = parsed.error.issues.some((i) => i.code === 'too_big');
  throw new TandemError(tooLarge ? 'TOO_LARGE' : 'BAD_MESSAGE', `${event}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
}
