/**
 * The Tandem server without Next, as its own process: restart tests kill it (SIGKILL) and start it
 * again on the same DATA_DIR and port. Prints `LISTENING <port>` once it accepts connections.
 */
import { loadEnv } from '../env';
import { createTandemServer } from '../app';

const env = loadEnv();
const server = createTandemServer(env);
const port = await server.listen(env.PORT, '127.0.0.1');
process.stdout.write(`LISTENING ${port}\n`);
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
