/**
 * `npm run bench [-- --json FILE] [--guests 500] [--messages 200] [--interval 10] [--rounds 4]`
 *
 * Benchmarks the live relay against the real Tandem server, which runs in a child process
 * (scripts/bench/server.ts) so its RSS is measured without the clients' memory, and against a bare
 * Socket.IO server doing nothing but io.to(room).emit (scripts/bench/floor.ts). All clients are
 * real socket.io-client websockets in this process, all traffic stays on 127.0.0.1. Relay and floor
 * latency are measured in alternating rounds, so a machine busy with other work skews both alike.
 *
 * Prints a table; with --json writes a flat object of numeric metrics. Always exits 0 once the
 * measurements are done, targets met or not (it is a benchmark, not a test); 1 only if it could not
 * measure.
 *
 * This folder: index.ts (phases, report), options.ts (the command line), child.ts (server children over IPC: server.ts,
 * floor.ts, ipc.ts), clients.ts (hosts and guests), latency.ts, snapshot.ts, api.ts, boot.ts (one
 * module per measured phase), report.ts (the table). */
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { measureApiOverhead } from './api';
import { measureBoot } from './boot';
import { measureHandover } from './handover';
import { Child, killChildren } from './child';
import { closeClients, openClients, openGuests, openHost } from './clients';
import type { MemoryReport } from './ipc';
import { interleave, LatencyRun } from './latency';
import { cpuMs, machineBusyMs, table, type Row } from './report';
import { measureSnapshot } from './snapshot';
import { measureNet } from './net';
import { measureFanout } from './fanout';
import { parseArgs } from './options';

const MB = 1024 * 1024;

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const N = o.guests;
  const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
  const started = performance.now();
  const m: Record<string, number> = {};

  const busy0 = machineBusyMs();
  const cpu0 = process.cpuUsage();
  let childCpuMs = 0;
  log('starting the Tandem server and the bare Socket.IO floor (child processes)');
  const [tandem, floor] = await Promise.all([Child.start('tandem server', 'server.ts'), Child.start('floor server', 'floor.ts')]);

  // ---- latency: 1 guest, then N guests, relay and floor interleaved
  const tHost = await openHost(tandem.url, 'default', true);
  const fHost = await openHost(floor.url, 'default', false);
  log('latency, 1 guest (relay and floor interleaved)');
  const [t1] = await openGuests(tandem.url, 'default', 1, 1, true);
  const [f1] = await openGuests(floor.url, 'default', 1, 1, false);
  await sleep(100);
  const [r1, fl1] = await interleave([new LatencyRun(tandem, tHost, [t1]), new LatencyRun(floor, fHost, [f1])], o);
  m.relay_p50_ms_1 = r1.p50;
  m.relay_p99_ms_1 = r1.p99;
  m.floor_p50_ms_1 = fl1.p50;
  m.floor_p99_ms_1 = fl1.p99;
  await closeClients([t1, f1]);

  const [tMem0, fMem0] = await Promise.all([tandem.call<MemoryReport>('memory'), floor.call<MemoryReport>('memory')]);
  log(`connecting ${N} guests to each server`);
  const c0 = performance.now();
  const tGuests = await openGuests(tandem.url, 'default', N, o.batch, true);
  m.connect_ms_500 = performance.now() - c0;
  const fGuests = await openGuests(floor.url, 'default', N, o.batch, false);
  await sleep(500);
  const tMemIdle = await tandem.call<MemoryReport>('memory');

  log(`latency, ${N} guests (relay and floor interleaved, ${o.rounds} rounds each)`);
  const [rN, fN] = await interleave([new LatencyRun(tandem, tHost, tGuests), new LatencyRun(floor, fHost, fGuests)], o);
  m.relay_p50_ms_500 = rN.p50;
  m.relay_p99_ms_500 = rN.p99;
  m.relay_max_ms_500 = rN.max;
  m.relay_delivered_500 = rN.delivered;
  m.relay_fanout_spread_ms_500 = rN.spread;
  m.relay_server_cpu_us_per_msg_500 = rN.serverCpuUsPerMsg;
  m.relay_client_cpu_us_per_msg_500 = rN.clientCpuUsPerMsg;
  m.floor_p50_ms_500 = fN.p50;
  m.floor_p99_ms_500 = fN.p99;
  m.floor_max_ms_500 = fN.max;
  m.floor_delivered_500 = fN.delivered;
  m.floor_fanout_spread_ms_500 = fN.spread;
  m.floor_server_cpu_us_per_msg_500 = fN.serverCpuUsPerMsg;
  m.floor_client_cpu_us_per_msg_500 = fN.clientCpuUsPerMsg;

  const [tMemN, fMemN] = await Promise.all([tandem.call<MemoryReport>('memory'), floor.call<MemoryReport>('memory')]);
  m.rss_mb_server_0 = tMem0.rss / MB;
  // RSS with N guests, read twice (connected and idle; after the traffic): the larger counts, since
  // after a GC the allocator sometimes hands pages back and one reading alone comes out low.
  const tMemMax = Math.max(tMemIdle.rss, tMemN.rss);
  m.rss_mb_server_500 = tMemMax / MB;
  m.rss_mb_per_guest = (tMemMax - tMem0.rss) / N / MB;
  m.rss_mb_per_guest_idle = (tMemIdle.rss - tMem0.rss) / N / MB;
  m.rss_mb_per_guest_after_traffic = (tMemN.rss - tMem0.rss) / N / MB;
  m.heap_mb_per_guest = (tMemN.heapUsed - tMem0.heapUsed) / N / MB;
  m.floor_rss_mb_per_guest = (fMemN.rss - fMem0.rss) / N / MB;

  // Keystroke echo at typing speed: each echo finds the terminal idle, so coalescing adds nothing.
  log(`keystroke echo, ${N} guests, one key every ${o.echoIntervalMs} ms`);
  const echo = new LatencyRun(tandem, tHost, tGuests);
  await echo.round({ messages: 40, warmup: 5, intervalMs: o.echoIntervalMs });
  const er = echo.result();
  m.echo_p50_ms_500 = er.p50;
  m.echo_p99_ms_500 = er.p99;

  // All guests leave at once; the relay tells each remaining guest about every departure.
  const d0 = performance.now();
  for (const g of tGuests) g.disconnect();
  await tandem.call('peersAtMost', { room: 'default', count: 1, timeoutMs: 30_000 }, 35_000);
  m.disconnect_ms_500 = performance.now() - d0;
  await closeClients(fGuests);
  tHost.socket.disconnect();
  fHost.socket.disconnect();
  childCpuMs += cpuMs(await floor.call<NodeJS.CpuUsage>('cpu'));
  await floor.stop();

  // ---- fan-out of a chatty program (1 MB/s) to N guests, one more guest reading nothing
  if (o.fanoutSeconds > 0) {
    log(`fan-out: host writes ${o.fanoutKbPerSec} KB/s for ${o.fanoutSeconds} s to ${N} guests (+1 that reads nothing)`);
    const f = await measureFanout(tandem, { guests: N, seconds: o.fanoutSeconds, bytesPerSec: o.fanoutKbPerSec * 1024, chunkBytes: 4096, batch: o.batch });
    m.fanout_server_cpu_pct_500 = f.serverCpuPct;
    m.fanout_mbps_500 = f.mbps;
    m.fanout_delivered_500 = f.delivered;
    m.fanout_frames_per_s = f.framesPerSec;
    m.fanout_latency_p50_ms = f.latencyP50Ms;
    m.fanout_latency_p99_ms = f.latencyP99Ms;
    m.host_stall_ms_max = f.latencyMaxMs;
    m.slow_guest_buffer_kb_max = f.slowGuestBufferKbMax;
    m.slow_guest_resynced = f.slowGuestResynced ? 1 : 0;
  }

  // ---- snapshots
  log('snapshots after 1 KB, 1 MB and 10 MB of output');
  const s1k = await measureSnapshot(tandem, 1024, o.snapshotReps);
  const s1m = await measureSnapshot(tandem, 1 * MB, o.snapshotReps);
  const s10m = await measureSnapshot(tandem, 10 * MB, o.snapshotReps);
  m.snapshot_ms_1kb = s1k.serverMs;
  m.snapshot_ms_1mb = s1m.serverMs;
  m.snapshot_ms_10mb = s10m.serverMs;
  m.snapshot_join_ms_1kb = s1k.joinMs;
  m.snapshot_join_ms_10mb = s10m.joinMs;
  m.snapshot_kb_1kb = s1k.bytes / 1024;
  m.snapshot_kb_10mb = s10m.bytes / 1024;
  m.history_feed_mb_per_s = 10 / (s10m.feedMs / 1000);
  // ---- command API overhead: POST /api round trip for `true` against a warm host
  log('command API overhead');
  const api = await measureApiOverhead(tandem.url, o.apiReps);
  m.api_overhead_ms = api.p50;
  m.api_overhead_p95_ms = api.p95;

  // ---- VM boot in real Chromium (skipped without one)
  if (o.bootRuns > 0) {
    log(`VM boot in Chromium (the guest the server announces: a built Debian disk if present, DISK_SOURCE=none for the small one): cold and restored, median of ${o.bootRuns}`);
    const boot = await measureBoot(tandem.url, o.bootRuns);
    if (boot) {
      m.boot_cold_ms = boot.coldMs;
      m.boot_restore_ms = boot.restoreMs;
      m.boot_state_mb = boot.stateMb;
      if (boot.diskSizeBytes !== undefined) {
        m.disk_bytes_to_prompt = boot.diskBytesToPrompt ?? 0;
        m.disk_requests_to_prompt = boot.diskRequestsToPrompt ?? 0;
        m.disk_size_bytes = boot.diskSizeBytes;
        m.disk_fraction_to_prompt = m.disk_bytes_to_prompt / m.disk_size_bytes;
      }
    } else log('no Chromium found: boot times skipped (scripts/install-browser.mjs)');
  }

  // ---- the VM's network: curl in the VM through Wisp (its own server; skipped without Chromium or the disk)
  if (o.net) {
    log('VM network: 50 MB by curl in the Debian VM through Wisp, and connect + first byte');
    const net = await measureNet(log).catch((e: unknown) => (log(`net: ${e instanceof Error ? e.message : String(e)}`), null));
    if (net) {
      m.net_download_mbps = net.downloadMbps;
      m.net_connect_ms = net.connectMs;
    }
  }

  // ---- handover and first prompt (issue 11): the production server with Next, in its own child
  if (o.bootRuns > 0) {
    const h = await measureHandover(log).catch((err) => (log(`handover bench failed: ${err instanceof Error ? err.message : String(err)}`), null));
    if (h) {
      const { phases: _logged, ...times } = h; // measureHandover logged the phases
      Object.assign(m, times);
    }
  }

  childCpuMs += cpuMs(await tandem.call<NodeJS.CpuUsage>('cpu'));
  await tandem.stop();
  // What other processes took while we ran, in cores: the bench is only meaningful on a quiet box.
  const busy1 = machineBusyMs();
  const wallMs = performance.now() - started;
  m.other_cpu_cores = busy0 === null || busy1 === null ? -1 : Math.max(0, (busy1 - busy0 - cpuMs(process.cpuUsage(cpu0)) - childCpuMs) / wallMs);

  m.relay_vs_floor_p99_500 = m.relay_p99_ms_500 / m.floor_p99_ms_500;
  m.relay_vs_floor_p50_500 = m.relay_p50_ms_500 / m.floor_p50_ms_500;
  m.snapshot_10mb_vs_1mb = m.snapshot_ms_10mb / m.snapshot_ms_1mb;
  m.bench_seconds = (performance.now() - started) / 1000;

  // ---- report
  const n = String(N);
  const rows: Row[] = [
    { metric: 'relay_p50_ms_1', value: m.relay_p50_ms_1, unit: 'ms' },
    { metric: 'relay_p99_ms_1', value: m.relay_p99_ms_1, unit: 'ms' },
    { metric: 'floor_p50_ms_1', value: m.floor_p50_ms_1, unit: 'ms' },
    { metric: 'floor_p99_ms_1', value: m.floor_p99_ms_1, unit: 'ms' },
    { metric: `relay_p50_ms_500`, value: m.relay_p50_ms_500, unit: 'ms' },
    { metric: `relay_p99_ms_500`, value: m.relay_p99_ms_500, unit: 'ms', target: '< 10 ms', ok: m.relay_p99_ms_500 < 10 },
    { metric: `floor_p50_ms_500`, value: m.floor_p50_ms_500, unit: 'ms' },
    { metric: `floor_p99_ms_500`, value: m.floor_p99_ms_500, unit: 'ms' },
    { metric: 'relay_vs_floor_p99_500', value: m.relay_vs_floor_p99_500, unit: '×', target: '≤ 1.2×', ok: m.relay_vs_floor_p99_500 <= 1.2 },
    { metric: 'relay_delivered_500', value: m.relay_delivered_500 * 100, unit: '%' },
    { metric: 'relay_fanout_spread_ms_500', value: m.relay_fanout_spread_ms_500, unit: 'ms' },
    { metric: 'floor_fanout_spread_ms_500', value: m.floor_fanout_spread_ms_500, unit: 'ms' },
    { metric: 'relay_server_cpu_us_per_msg_500', value: m.relay_server_cpu_us_per_msg_500, unit: 'µs' },
    { metric: 'floor_server_cpu_us_per_msg_500', value: m.floor_server_cpu_us_per_msg_500, unit: 'µs' },
    { metric: 'client_cpu_us_per_msg_500', value: m.relay_client_cpu_us_per_msg_500, unit: 'µs' },
    { metric: 'connect_ms_500', value: m.connect_ms_500, unit: 'ms' },
    { metric: 'disconnect_ms_500', value: m.disconnect_ms_500, unit: 'ms' },
    { metric: 'echo_p50_ms_500 (typing)', value: m.echo_p50_ms_500, unit: 'ms' },
    { metric: 'echo_p99_ms_500 (typing)', value: m.echo_p99_ms_500, unit: 'ms', target: '< 10 ms', ok: m.echo_p99_ms_500 < 10 },
    ...(m.fanout_server_cpu_pct_500 === undefined
      ? []
      : [
          { metric: 'fanout_server_cpu_pct_500', value: m.fanout_server_cpu_pct_500, unit: '%', target: '< 50 %', ok: m.fanout_server_cpu_pct_500 < 50 },
          { metric: 'fanout_mbps_500 (all guests)', value: m.fanout_mbps_500, unit: 'MB/s' },
          { metric: 'fanout_delivered_500', value: m.fanout_delivered_500 * 100, unit: '%', target: '≥ 99 %', ok: m.fanout_delivered_500 >= 0.99 },
          { metric: 'fanout_frames_per_s', value: m.fanout_frames_per_s, unit: '/s' },
          { metric: 'fanout_latency_p50_ms', value: m.fanout_latency_p50_ms, unit: 'ms' },
          { metric: 'fanout_latency_p99_ms', value: m.fanout_latency_p99_ms, unit: 'ms' },
          { metric: 'host_stall_ms_max', value: m.host_stall_ms_max, unit: 'ms', target: '< 250 ms', ok: m.host_stall_ms_max < 250 },
          { metric: 'slow_guest_buffer_kb_max', value: m.slow_guest_buffer_kb_max, unit: 'KB', target: '< 2048 KB', ok: m.slow_guest_buffer_kb_max < 2048 },
          { metric: 'slow_guest_resynced', value: m.slow_guest_resynced, unit: '', target: '1', ok: m.slow_guest_resynced === 1 },
        ]),
    { metric: 'snapshot_ms_1kb (server)', value: m.snapshot_ms_1kb, unit: 'ms', target: '< 20 ms', ok: m.snapshot_ms_1kb < 20 },
    { metric: 'snapshot_ms_1mb (server)', value: m.snapshot_ms_1mb, unit: 'ms' },
    { metric: 'snapshot_ms_10mb (server)', value: m.snapshot_ms_10mb, unit: 'ms', target: '< 20 ms', ok: m.snapshot_ms_10mb < 20 },
    {
      metric: 'snapshot_10mb_vs_1mb',
      value: m.snapshot_10mb_vs_1mb,
      unit: '×',
      target: '≤ 1.5× (flat)',
      // Flat in history: 10 MB of history costs no more than 1 MB (both overflow the scrollback), allowing 1 ms of timer noise.
      ok: m.snapshot_ms_10mb <= 1.5 * m.snapshot_ms_1mb + 1,
    },
    { metric: 'snapshot_join_ms_1kb (client)', value: m.snapshot_join_ms_1kb, unit: 'ms' },
    { metric: 'snapshot_join_ms_10mb (client)', value: m.snapshot_join_ms_10mb, unit: 'ms' },
    { metric: 'snapshot_kb_10mb', value: m.snapshot_kb_10mb, unit: 'KB' },
    { metric: 'rss_mb_server_0', value: m.rss_mb_server_0, unit: 'MB' },
    { metric: `rss_mb_server_500`, value: m.rss_mb_server_500, unit: 'MB' },
    { metric: 'rss_mb_per_guest', value: m.rss_mb_per_guest, unit: 'MB', target: '< 0.049 MB', ok: m.rss_mb_per_guest < 0.049 },
    { metric: 'rss_mb_per_guest_idle', value: m.rss_mb_per_guest_idle, unit: 'MB' },
    { metric: 'rss_mb_per_guest_after_traffic', value: m.rss_mb_per_guest_after_traffic, unit: 'MB' },
    { metric: 'floor_rss_mb_per_guest', value: m.floor_rss_mb_per_guest, unit: 'MB' },
    { metric: 'api_overhead_ms', value: m.api_overhead_ms, unit: 'ms', target: '< 50 ms', ok: m.api_overhead_ms < 50 },
    { metric: 'api_overhead_p95_ms', value: m.api_overhead_p95_ms, unit: 'ms' },
    ...(m.boot_cold_ms === undefined
      ? []
      : [
          { metric: 'boot_cold_ms', value: m.boot_cold_ms, unit: 'ms', target: '< 10000 ms', ok: m.boot_cold_ms < 10_000 },
          { metric: 'boot_restore_ms', value: m.boot_restore_ms, unit: 'ms' },
          { metric: 'boot_state_mb (uncompressed)', value: m.boot_state_mb, unit: 'MB' },
        ]),
    ...(m.disk_size_bytes === undefined
      ? []
      : [
          { metric: 'disk_bytes_to_prompt', value: m.disk_bytes_to_prompt, unit: 'bytes' },
          { metric: 'disk_requests_to_prompt', value: m.disk_requests_to_prompt, unit: 'requests' },
          { metric: 'disk_size_bytes', value: m.disk_size_bytes, unit: 'bytes' },
          { metric: 'disk_fraction_to_prompt', value: m.disk_fraction_to_prompt, unit: '', target: '< 0.05', ok: m.disk_fraction_to_prompt < 0.05 },
        ]),
    ...(m.net_download_mbps === undefined
      ? []
      : [
          { metric: 'net_download_mbps', value: m.net_download_mbps, unit: 'MB/s', target: '≥ 5 MB/s', ok: m.net_download_mbps >= 5 },
          { metric: 'net_connect_ms', value: m.net_connect_ms, unit: 'ms' },
        ]),
    ...(m.handover_ms === undefined
      ? []
      : [
          { metric: 'first_prompt_ms_new_room', value: m.first_prompt_ms_new_room, unit: 'ms', target: '≤ 3000 ms', ok: m.first_prompt_ms_new_room <= 3000 },
          { metric: 'handover_takeover_ms', value: m.handover_takeover_ms, unit: 'ms', target: '≤ 10000 ms', ok: m.handover_takeover_ms <= 10_000 },
          { metric: 'handover_ms (headless)', value: m.handover_ms, unit: 'ms', target: '≤ 10000 ms', ok: m.handover_ms <= 10_000 },
        ]),
    { metric: 'other_cpu_cores', value: m.other_cpu_cores, unit: 'cores' },
  ];
  const cores = os.availableParallelism();
  process.stdout.write(
    `\nTandem relay benchmark: ${n} guests, ${o.messages} messages ${o.intervalMs} ms apart in ${o.rounds} rounds, ` +
      `node ${process.version}, ${cores} cores, ${m.bench_seconds.toFixed(0)} s\n` +
      `latency: host emit → guest receipt; all clients in this process; floor = bare Socket.IO io.to(room).emit,\n` +
      `  measured in rounds alternating with the relay's. *_500 rows use --guests (${n}).\n` +
      `snapshot_ms_*: RoomRelay.snapshot() timed inside the server, mirror cache cold, median of ${o.snapshotReps};\n` +
      `snapshot_join_ms_*: late joiner connect() → term:snapshot received. rss: server child after GC,\n` +
      `api_overhead_ms: POST /api {"cmd":"true"} round trip, median of ${o.apiReps}, host = a socket.io peer answering\n` +
      `  like the guest shell at once (so the VM's own run time is ~0 and all of it is overhead).\n` +
      `  larger of two readings with guests connected (idle, after traffic).\n` +
      `echo_*: keystroke echoes ${o.echoIntervalMs} ms apart (typing speed). fanout_*: the host writes ${o.fanoutKbPerSec} KB/s of coloured\n` +
      `  build-log lines in 4 KB chunks for ${o.fanoutSeconds} s to ${n} raw-websocket guests; cpu = server child, % of one core;\n` +
      `  mbps = terminal output delivered to all guests together; host_stall_ms_max = longest any chunk took from the\n` +
      `  host's emit to a watching guest; slow_guest_*: one more guest that reads nothing (server-side buffer, sampled).\n\n` +
      table(rows) +
      '\n',
  );
  if (m.other_cpu_cores > 0.25)
    process.stdout.write(
      `\nWARNING: other processes used ${m.other_cpu_cores.toFixed(2)} of ${cores} cores during the run, so absolute ` +
        `latencies are inflated; the relay/floor ratio (interleaved) is the more trustworthy figure.\n`,
    );
  const missed = rows.filter((r) => r.ok === false).map((r) => r.metric);
  process.stdout.write(missed.length ? `\nTargets missed: ${missed.join(', ')}\n` : '\nAll targets met.\n');

  if (o.json) {
    const flat = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number.isFinite(v) ? Number(v.toFixed(4)) : -1]));
    fs.writeFileSync(o.json, JSON.stringify(flat, null, 2) + '\n');
    process.stdout.write(`wrote ${o.json}\n`);
  }
}

const cleanup = () => {
  for (const s of openClients) s.disconnect();
  killChildren();
};
process.on('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    process.stderr.write(`bench: ${sig}, stopping\n`);
    cleanup();
    process.exit(130);
  });
}
// A hung phase must not hang the bench: everything is bounded, this is the last resort.
const watchdog = setTimeout(() => {
  process.stderr.write('bench: gave up after 900 s\n');
  cleanup();
  process.exit(1);
}, 900_000); // the handover phase starts the production server and boots several VMs
watchdog.unref();

main().then(
  () => {
    cleanup();
    process.exit(0);
  },
  (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    cleanup();
    process.exit(1);
  },
);
