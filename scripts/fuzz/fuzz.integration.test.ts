import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../server/testing/startServer';
import { runFuzz } from './runFuzz';
import { formatReport, verdict } from './report';

/** The 15-second slice of `npm run fuzz` that runs with the suite (the full run: ≥ 10 000 messages). */
const SLICE_MS = 15_000;
const SEED = 20261201;

let srv: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv?.close();
});

describe('fuzz (15-second slice)', () => {
  it('keeps the server up, its memory bounded and a bystander room responsive, and names every refusal', async () => {
    const fuzz = srv.server.rooms.create('fuzz').id;
    const bystander = srv.server.rooms.create('bystander').id;
    const report = await runFuzz(
      {
        url: srv.url,
        rooms: { fuzz, bystander },
        // In-process: this RSS includes the fuzzer's own clients, so the bound is a loose one.
        rss: async () => process.memoryUsage().rss,
        alive: () => true,
      },
      { messages: 1_000_000, durationMs: SLICE_MS, seed: SEED },
    );
    // In-process, the fuzzer's own work runs on the server's event loop too: a looser latency bound
    // than `npm run fuzz` (server in its own process) uses.
    const bad = verdict(report, 0, 1000);
    expect(bad, formatReport(report, SEED)).toEqual([]);
    expect(report.total).toBeGreaterThan(200);
    expect(Object.keys(report.byKind).sort()).toEqual(['handshake', 'http', 'socket', 'truncated', 'yjs']);
  }, SLICE_MS + 60_000);
});
