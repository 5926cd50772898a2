/** Command API overhead: POST /api round trips against a host that answers at once. */
import { performance } from 'node:perf_hooks';
import { hostFakeShell } from '../../server/testing/FakeShell';
import type { ClientSocket } from '../../server/testing/startServer';
import { connected, open } from './clients';
import { BENCH_API_KEY } from './ipc';
import { percentile } from './latency';

/** Round trips of POST /api for `true`, hosted by a peer that answers like ash with no run time. */
export async function measureApiOverhead(url: string, reps: number): Promise<{ p50: number; p95: number }> {
  const room = 'default';
  const host = open(url, room, true);
  await connected(host);
  hostFakeShell(host as unknown as ClientSocket);
  const post = async () => {
    const r = await fetch(`${url}/api`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ cmd: 'true', room }),
    });
    const body = (await r.json()) as { exitCode?: number };
    if (r.status !== 200 || body.exitCode !== 0) throw new Error(`api answered ${r.status} ${JSON.stringify(body)}`);
  };
  await post(); // warm-up: the first command waits for the prompt
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await post();
    times.push(performance.now() - t0);
  }
  host.disconnect();
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

