/** `npm run db:migrate`: applies the committed migrations to DATA_DIR's database (the server also does this at start). */
import path from 'node:path';
import { loadEnv } from '../server/env';
import { openDb } from '../server/db';

const env = loadEnv();
const db = openDb(path.resolve(env.DATA_DIR));
db.$client.close();
process.stdout.write(`migrations applied to ${path.resolve(env.DATA_DIR, 'tandem.sqlite')}\n`);
