/** Caps of the command API's HTTP side, in one file the routes and the OpenAPI document both read. */

/** How long a waiting request (POST /api, ?wait=true) is held open for the command to finish before answering 202. */
export const API_WAIT_MS = 60_000;
/** The shortest `?waitMs=` a long poll may ask for. */
export const MIN_API_WAIT_MS = 100;
export const MAX_API_BODY_BYTES = 64 * 1024;
export const DEFAULT_LIST_LIMIT = 20;
export const MAX_LIST_LIMIT = 100;
export const DEFAULT_ROOM_LIST_LIMIT = 200;
export const MAX_ROOM_LIST_LIMIT = 1000;
export { MAX_BATCH_ROOMS } from '../../lib/shared/limits';
