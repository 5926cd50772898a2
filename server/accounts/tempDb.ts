import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb, type Db } from '../db';

/** A migrated SQLite database in a fresh temp dir, for tests; `close` removes it. */
export function tempDb(): { db: Db; dir: string; close(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-accounts-'));
  const db = openDb(dir);
  return {
    db,
    dir,
    close() {
      db.$client.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
