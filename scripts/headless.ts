/**
 * `npm run headless`: hosts rooms from a headless Chromium, without a person's browser.
 *   npm run headless -- [--url http://localhost:3000] [--room default] [--room other ...]
 * On the server's machine it signs host tokens with the server's secret (DATA_DIR/auth-secret or
 * AUTH_SECRET), so its VM may publish the trusted boot snapshot. Stops with Ctrl-C.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadEnv } from '../server/env';
import { log } from '../server/log';
import { signHostToken } from '../server/auth/hostToken';
import { HeadlessHostPool } from '../server/host/HeadlessHostPool';

function args(argv: string[]) {
  const rooms: string[] = [];
  let url: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--room') rooms.push(argv[++i]);
    else if (argv[i] === '--url') url = argv[++i];
    else if (argv[i] === '--help' || argv[i] === '-h') {
      process.stdout.write('usage: npm run headless -- [--url URL] [--room ROOM]...\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]}`);
  }
  return { rooms: rooms.length ? rooms : ['default'], url };
}

async function main() {
  const env = loadEnv();
  const { rooms, url } = args(process.argv.slice(2));
  const baseUrl = (url ?? env.PUBLIC_URL).replace(/\/$/, '');
  const secretFile = path.join(path.resolve(env.DATA_DIR), 'auth-secret');
  const secret = env.AUTH_SECRET ?? (fs.existsSync(secretFile) ? fs.readFileSync(secretFile, 'utf8').trim() : undefined);
  const pool = new HeadlessHostPool({
    baseUrl,
    hostToken: secret ? (room) => signHostToken(secret, room) : undefined,
    log: log.child({ cap: 'headless' }),
    idleMs: Number.MAX_SAFE_INTEGER,
    maxHosts: rooms.length,
  });
  for (const room of rooms) {
    await pool.ensureHost(room);
    process.stdout.write(`hosting ${baseUrl}/r/${room}${secret ? ' (trusted)' : ''}\n`);
  }
  const stop = async () => {
    await pool.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  process.stderr.write(`headless: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
