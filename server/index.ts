/** Entry point: `npm start` (production) and `npm run dev`. One port for Next, Socket.IO and Yjs. */
import fs from 'node:fs';
import path from 'node:path';
import next from 'next';
import { bindAddress, loadEnv } from './env';
import { log } from './log';
import { createTandemServer, ROOT_DIR } from './app';

async function main() {
  const dotenv = path.join(ROOT_DIR, '.env');
  if (fs.existsSync(dotenv)) process.loadEnvFile(dotenv);
  const env = loadEnv();
  const dev = env.NODE_ENV !== 'production';
  const app = next({ dev, dir: ROOT_DIR, hostname: env.HOST, port: env.PORT });
  await app.prepare();
  const handle = app.getRequestHandler();
  const tandem = createTandemServer(env, { next: (req, res) => handle(req, res) });
  const port = await tandem.listen(env.PORT, bindAddress(env.HOST));
  log.info({ port }, 'listening');
  // The one line a person starting the server looks for.
  process.stdout.write(`\n  Tandem is running: http://${env.HOST}:${port}/\n\n`);
  const stop = async () => {
    await tandem.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  log.fatal({ err }, 'failed to start');
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
