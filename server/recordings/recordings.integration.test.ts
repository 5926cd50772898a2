import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, next } from '../testing/startServer';
import { call } from '../testing/http';
import { as, signUp } from '../testing/accounts';
import { parseCastText, replayScreen } from '../testing/castReplay';

type Srv = Awaited<ReturnType<typeof startServer>>;

async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const terminal = async (srv: Srv, room: string, tab = 'main', cookie?: string) => {
  const r = await as(srv, cookie, `/api/rooms/${room}/recordings`);
  return (r.json?.terminals ?? []).find((t: { tab: string }) => t.tab === tab);
};

describe('recordings', () => {
  let srv: Srv;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(async () => {
    await srv.close();
  });

  it('records what the relay passes on; the export is asciicast v2 and replays to the mirror’s screen', async () => {
    const host = await srv.client('default');
    await next(host, 'room:state');
    host.emit('term:resize', { tab: 'main', cols: 60, rows: 10 });
    const frames = [
      '\x1b]133;A\x07$ \x1b]133;B\x07',
      'echo hi',
      '\r\n\x1b]133;C\x07',
      'hi\r\n\x1b]133;D;0\x07',
      ...Array.from({ length: 30 }, (_, i) => `\x1b[3${i % 8}mline ${i}\x1b[0m ${'x'.repeat(i)}\r\n`),
      '\x1b]133;A\x07$ \x1b]133;B\x07false\r\n\x1b]133;C\x07\x1b]133;D;1\x07\x1b]133;A\x07$ ',
    ];
    frames.forEach((data, i) => host.emit('term:out', { tab: 'main', seq: i + 1, data }));
    const guest = await srv.client('default');
    await next(guest, 'term:snapshot');
    guest.emit('term:in', { tab: 'main', data: 'typed by the guest' });
    // Output is coalesced into frames (at most one per ~16 ms): wait for the host's last chunk.
    await waitFor(() => srv.server.recorder.logs('default').get('main')?.lastHostSeq === frames.length || undefined, 'the frames recorded');
    expect((await terminal(srv, 'default'))?.lastSeq).toBe(srv.server.recorder.logs('default').get('main')!.lastSeq);

    const cast = await call(srv, '/api/rooms/default/recordings/main/export.cast');
    expect(cast.status).toBe(200);
    expect(cast.headers.get('content-type')).toMatch(/application\/x-asciicast/);
    const { header, events } = parseCastText(cast.text);
    expect(header).toMatchObject({ version: 2, width: 80, height: 24 });
    expect(events.some((e) => e[1] === 'r' && e[2] === '60x10')).toBe(true);
    // Input per person is off unless the owner turns it on.
    expect(events.some((e) => e[1] === 'i')).toBe(false);
    const mirror = await srv.server.hub.relay('default')!.snapshot('main');
    const expected = await replayScreen({ cols: mirror.cols, rows: mirror.rows, keyframe: mirror, events: [] });
    expect(expected).toContain('line 29');
    expect(await replayScreen({ cols: header.width, rows: header.height, events })).toBe(expected);

    const marks = (await call(srv, '/api/rooms/default/recordings/main/marks')).json.marks;
    expect(marks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'command', label: '$ echo hi' }),
        expect.objectContaining({ kind: 'command', label: 'exit 0', exitCode: 0 }),
        expect.objectContaining({ kind: 'command', label: '$ false' }),
        expect.objectContaining({ kind: 'command', exitCode: 1 }),
        expect.objectContaining({ kind: 'join' }),
      ]),
    );
    const found = (await call(srv, '/api/rooms/default/recordings/main/search?q=line%2017')).json.results;
    expect(found).toHaveLength(1);
    expect(found[0].text).toContain('line 17');
    srv.disconnectAll();
  });

  it('records who typed only where the owner turned it on; outsiders cannot read a members-only room’s recordings', async () => {
    const owner = await signUp(srv, 'Owner');
    const room = (await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'class' } })).json.room;
    const host = await srv.client(room.id, { cookie: owner.cookie });
    await next(host, 'room:state');
    host.emit('term:in', { tab: 'main', data: 'before\r' });
    host.emit('term:out', { tab: 'main', seq: 1, data: 'one\r\n' });
    await waitFor(async () => (await terminal(srv, room.id, 'main', owner.cookie))?.lastSeq === 1 || undefined, 'frame 1');
    const patched = await as(srv, owner.cookie, `/api/rooms/${room.id}`, { method: 'PATCH', json: { recordInput: true } });
    expect(patched.json.room.recordInput).toBe(true);
    host.emit('term:in', { tab: 'main', data: 'ls\r' });
    host.emit('term:out', { tab: 'main', seq: 2, data: 'two\r\n' });
    await waitFor(async () => (await terminal(srv, room.id, 'main', owner.cookie))?.lastSeq === 2 || undefined, 'frame 2');
    const { events } = parseCastText((await as(srv, owner.cookie, `/api/rooms/${room.id}/recordings/main/export.cast`)).text);
    expect(events.filter((e) => e[1] === 'i').map((e) => e[2])).toEqual(['ls\r']);

    const stranger = await signUp(srv, 'Stranger');
    expect((await as(srv, stranger.cookie, `/api/rooms/${room.id}/recordings`)).status).toBe(403);
    expect((await call(srv, `/api/rooms/${room.id}/recordings/main/export.cast`)).status).toBe(401);
    srv.disconnectAll();
  });

  it('seeks in a 50 MB recording from the nearest keyframe, to the right screen', async () => {
    const room = srv.server.rooms.create('big');
    const rec = srv.server.recorder;
    const t0 = Date.now();
    const lineOf = (k: number, j: number) => `frame ${String(k).padStart(6, '0')} line ${String(j).padStart(2, '0')} `.padEnd(78, '.');
    let k = 0;
    while (rec.roomBytes(room.id) < 50 * 2 ** 20) {
      k += 1;
      let data = '';
      for (let j = 0; j < 12; j++) data += lineOf(k, j) + '\r\n';
      rec.output(room.id, 'main', k, k, data, t0 + k * 10);
    }
    const frames = k;
    const log = rec.logs(room.id).get('main')!;
    await log.settled();
    expect(log.bytes).toBeGreaterThanOrEqual(50 * 2 ** 20);
    for (const target of [Math.floor(frames * 0.37), Math.floor(frames * 0.91), 5]) {
      const t = log.firstT + (target - 1) * 0.01 + 0.005;
      const started = performance.now();
      const r = await call(srv, `/api/rooms/${room.id}/recordings/main/seek?t=${t}`);
      const ms = performance.now() - started;
      console.log(`seek to frame ${target}/${frames} in a ${(log.bytes / 2 ** 20).toFixed(1)} MB recording: ${ms.toFixed(1)} ms, ${r.text.length} bytes answered`);
      expect(r.status).toBe(200);
      expect(r.text.length).toBeLessThan(2 * 1024 * 1024); // a keyframe and at most a keyframe interval of events
      const screen = (await replayScreen({ cols: 80, rows: 24, keyframe: r.json.keyframe, events: r.json.events })).split('\n').filter((l) => l.trim());
      expect(screen.at(-1)).toBe(lineOf(target, 11));
      expect(screen.at(-13)).toBe(lineOf(target - 1, 11 - (target > 1 ? 0 : 12)));
    }
  }, 120_000);
});

describe('recording caps', () => {
  let srv: Srv;
  beforeAll(async () => {
    srv = await startServer({ RECORDING_MAX_MB: '1', RECORDING_RETENTION_DAYS: '1' });
  });
  afterAll(async () => {
    await srv.close();
  });

  it('keeps a room under its size cap by dropping its oldest parts; what is left still seeks and exports', async () => {
    const room = srv.server.rooms.create('capped');
    const rec = srv.server.recorder;
    for (let k = 1; k <= 3000; k++) rec.output(room.id, 'main', k, k, `row ${k} ${'#'.repeat(1000)}\r\n`, Date.now());
    const log = rec.logs(room.id).get('main')!;
    await log.settled();
    expect(rec.roomBytes(room.id)).toBeLessThanOrEqual(2 ** 20);
    const files = fs.readdirSync(path.join(srv.dataDir, 'recordings', room.id, 'main')).filter((f) => f.endsWith('.cast'));
    expect(files[0]).not.toBe('000001.cast');
    const start = (await call(srv, `/api/rooms/${room.id}/recordings/main/seek?t=0`)).json;
    expect(start.keyframe.seq).toBeGreaterThan(1); // the beginning is gone, the seek starts where the recording now starts
    const { events } = parseCastText((await call(srv, `/api/rooms/${room.id}/recordings/main/export.cast`)).text);
    expect(events.at(-1)![2]).toContain('row 3000');
  });

  it('deletes parts older than the retention, and recordings of deleted rooms', async () => {
    const room = srv.server.rooms.create('old');
    const rec = srv.server.recorder;
    for (let k = 1; k <= 600; k++) rec.output(room.id, 'main', k, k, `row ${k} ${'#'.repeat(1000)}\r\n`, Date.now());
    const dir = path.join(srv.dataDir, 'recordings', room.id, 'main');
    const before = fs.readdirSync(dir).filter((f) => f.endsWith('.cast')).length;
    expect(before).toBeGreaterThan(2);
    rec.enforceRetention(Date.now() + 2 * 86_400_000);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.cast'))).toHaveLength(1); // the part being written stays
    srv.server.rooms.delete(room.id);
    rec.enforceRetention();
    expect(fs.existsSync(path.join(srv.dataDir, 'recordings', room.id))).toBe(false);
  });
});

describe('importing a .cast', () => {
  let srv: Srv;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(async () => {
    await srv.close();
  });
  const post = (body: string | Buffer, type = 'application/x-asciicast') =>
    call(srv, '/api/recordings/import', { method: 'POST', body: body as BodyInit, headers: { 'content-type': type } });
  const good = [
    JSON.stringify({ version: 2, width: 40, height: 6, title: 'demo' }),
    JSON.stringify([0.1, 'o', '$ ls\r\n']),
    JSON.stringify([0.5, 'o', 'a.txt  b.txt\r\n']),
    JSON.stringify([0.7, 'r', '50x8']),
    JSON.stringify([0.9, 'm', 'done']),
    JSON.stringify([1.2, 'o', '\x1b[1mbold\x1b[0m\r\n$ ']),
  ].join('\n') + '\n';

  it('refuses corrupt, foreign, truncated and oversize files with a clear error, storing nothing', async () => {
    const roomsBefore = srv.server.rooms.list(1000).length;
    const cases: [string | Buffer, number, string, RegExp][] = [
      [Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x9c, 0x80]), 400, 'BAD_RECORDING', /not UTF-8/],
      ['hello, this is a text file\n', 400, 'BAD_RECORDING', /first line is not a JSON header/],
      [JSON.stringify({ name: 'package', version: '1.0.0' }) + '\n', 400, 'BAD_RECORDING', /not an asciicast v2 file/],
      [JSON.stringify({ version: 3, term: { cols: 80, rows: 24 } }) + '\n[0.1, "o", "x"]\n', 400, 'BAD_RECORDING', /v3 is not supported/],
      [good.slice(0, good.length - 12), 400, 'BAD_RECORDING', /truncated/],
      [good.replace('[0.5,', '[0.05,'), 400, 'BAD_RECORDING', /time goes backwards/],
      [good.replace('"50x8"', '"wide"'), 400, 'BAD_RECORDING', /resize/],
      [JSON.stringify({ version: 2, width: 80, height: 24 }) + '\n', 400, 'BAD_RECORDING', /no events/],
      [Buffer.alloc(32 * 2 ** 20 + 1, 0x20), 413, 'TOO_LARGE', /at most 32 MiB/],
    ];
    for (const [body, status, code, message] of cases) {
      const r = await post(body);
      expect(r.status, String(body).slice(0, 40)).toBe(status);
      expect(r.json.error.code).toBe(code);
      expect(r.json.error.message).toMatch(message);
    }
    expect((await post(good, 'text/plain')).status).toBe(415); // a cross-site form cannot import
    expect(srv.server.rooms.list(1000)).toHaveLength(roomsBefore);
    expect(fs.readdirSync(path.join(srv.dataDir, 'recordings'))).toEqual([]);
  });

  it('imports a valid .cast as a read-only replay room that seeks and exports the same screen', async () => {
    const r = await post(good);
    expect(r.status).toBe(201);
    expect(r.json.url).toBe(`/r/${r.json.room.id}/replay`);
    const id = r.json.room.id;
    expect(srv.server.rooms.get(id)?.replayOnly).toBe(true);
    const exported = parseCastText((await call(srv, `/api/rooms/${id}/recordings/main/export.cast`)).text);
    const original = parseCastText(good);
    const screen = await replayScreen({ cols: 40, rows: 6, events: original.events });
    expect(screen).toContain('bold');
    expect(await replayScreen({ cols: exported.header.width, rows: exported.header.height, events: exported.events })).toBe(screen);
    const end = (await call(srv, `/api/rooms/${id}/recordings/main/seek?t=5`)).json;
    expect(await replayScreen({ cols: 40, rows: 6, keyframe: end.keyframe, events: end.events })).toBe(screen);
    // Nobody can host or type in it.
    await expect(srv.client(id)).rejects.toThrow(/no room/);
  });
});
