/**
 * A write the disk had no room for: SQLite says SQLITE_FULL (or an I/O error while growing the file),
 * the file system ENOSPC or EDQUOT. Answered as STORAGE_FULL (507), never a bare 500: the client
 * learns that nothing was saved and that trying later may work; what was stored before is intact.
 */
const FULL_CODES = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT']);

export function isStorageFull(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (FULL_CODES.has(code) || (code.startsWith('SQLITE_IOERR') && /disk|space|full/i.test(String((e as Error).message))));
}

export const STORAGE_FULL_MESSAGE = "the server's disk is full: nothing was saved; try again later";
