import { describe, expect, it } from 'vitest';
import { DISK_CHUNK_BYTES } from './BaseImageCache';
import { DiskReadError, httpRangeReader, type RangeReader } from './httpRangeReader';
import { MAX_SNAPSHOT_OVERLAY_BYTES, OverlayDisk } from './OverlayDisk';
import { PAGE_BYTES } from './OverlayPages';
import { MemoryOverlayStore } from './OverlayStore';

const SIZE = 4 * DISK_CHUNK_BYTES;
/** A base image whose every byte says where it is: base[i] = i % 251. */
const baseByte = (i: number) => i % 251;

function fakeBase() {
  const reads: [number, number][] = [];
  const read: RangeReader = async (start, length) => {
    reads.push([start, length]);
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = baseByte(start + i);
    return out;
  };
  return { read, reads };
}

function makeDisk(store = new MemoryOverlayStore(), read: RangeReader = fakeBase().read, extra: Partial<ConstructorParameters<typeof OverlayDisk>[0]> = {}) {
  return new OverlayDisk({ size: SIZE, diskVersion: 'v1', url: '/vm/disk/v1.ext2', read, store, sleep: async () => {}, ...extra });
}

const getAsync = (d: OverlayDisk, offset: number, len: number) => new Promise<Uint8Array>((resolve) => d.get(offset, len, resolve));
const filled = (len: number, v: number) => new Uint8Array(len).fill(v);

describe('OverlayDisk', () => {
  it('reads the base lazily in whole chunks, once each', async () => {
    const base = fakeBase();
    const d = makeDisk(new MemoryOverlayStore(), base.read);
    await d.load();
    base.reads.length = 0; // the size probe at open
    const a = await getAsync(d, DISK_CHUNK_BYTES + 512, 1024);
    expect(a[0]).toBe(baseByte(DISK_CHUNK_BYTES + 512));
    expect(a[1023]).toBe(baseByte(DISK_CHUNK_BYTES + 512 + 1023));
    await getAsync(d, DISK_CHUNK_BYTES + 4096, 512);
    expect(base.reads).toEqual([[DISK_CHUNK_BYTES, DISK_CHUNK_BYTES]]);
    // A read spanning two chunks fetches only the missing one.
    await getAsync(d, 2 * DISK_CHUNK_BYTES - 512, 1024);
    expect(base.reads).toEqual([
      [DISK_CHUNK_BYTES, DISK_CHUNK_BYTES],
      [2 * DISK_CHUNK_BYTES, DISK_CHUNK_BYTES],
    ]);
    expect(d.bytesFetched).toBe(2 * DISK_CHUNK_BYTES + 256);
  });

  it('shows written units over the base at once, and persists them in one batch', async () => {
    const store = new MemoryOverlayStore();
    const d = makeDisk(store);
    await d.load();
    // 512 bytes in the middle of a page: the rest of the page still comes from the base.
    d.set(PAGE_BYTES + 1024, filled(512, 7), () => {});
    const r = await getAsync(d, PAGE_BYTES, PAGE_BYTES);
    expect(r[1023]).toBe(baseByte(PAGE_BYTES + 1023));
    expect(r[1024]).toBe(7);
    expect(r[1535]).toBe(7);
    expect(r[1536]).toBe(baseByte(PAGE_BYTES + 1536));
    await d.flush();
    expect(store.meta?.generation).toBe(1);
    expect(store.pages.get(1)?.mask).toBe(0b1100 << 2);
  });

  it('keeps files across a reload: a new disk on the same store sees the writes without reading them from the base', async () => {
    const store = new MemoryOverlayStore();
    const d1 = makeDisk(store);
    await d1.load();
    d1.set(3 * DISK_CHUNK_BYTES, filled(DISK_CHUNK_BYTES, 9), () => {});
    await d1.close();

    const base = fakeBase();
    const d2 = makeDisk(store, base.read);
    await d2.load();
    base.reads.length = 0;
    const r = await getAsync(d2, 3 * DISK_CHUNK_BYTES, DISK_CHUNK_BYTES);
    expect(r.every((b) => b === 9)).toBe(true);
    expect(base.reads).toEqual([]); // wholly written: no Range read needed
    expect(d2.stateTag).toBe(`${store.meta?.id}@1`);
  });

  it('a write landing while its chunk is being fetched is not lost', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const base = fakeBase();
    const d = makeDisk(new MemoryOverlayStore(), async (s, l) => {
      if (s !== SIZE - 256) await gate;
      return base.read(s, l);
    });
    await d.load();
    const pending = getAsync(d, 0, 1024);
    d.set(0, filled(512, 5), () => {});
    release();
    const r = await pending;
    expect(r[0]).toBe(5);
    expect(r[600]).toBe(baseByte(600));
  });

  it('reports an unreadable disk once, naming it, instead of leaving the guest waiting', async () => {
    const messages: string[] = [];
    let calls = 0;
    const d = makeDisk(new MemoryOverlayStore(), async (s) => {
      calls++;
      if (s === SIZE - 256) return new Uint8Array(256);
      throw new DiskReadError('could not read the disk /vm/disk/v1.ext2: HTTP 503', true);
    }, { onFatal: (m) => messages.push(m) });
    await d.load();
    let answered = false;
    d.get(0, 512, () => (answered = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(answered).toBe(false);
    expect(messages).toEqual(['could not read the disk /vm/disk/v1.ext2: HTTP 503']);
    expect(calls).toBe(1 + 4); // probe + first try + 3 retries
    expect(d.fatal).toContain('/vm/disk/v1.ext2');
  });

  it('fails at open when the image is shorter than announced (v86 never gets onload)', async () => {
    const messages: string[] = [];
    const d = makeDisk(new MemoryOverlayStore(), async () => {
      throw new DiskReadError('the disk /vm/disk/v1.ext2 ends before byte 524032 (HTTP 416)', false);
    }, { onFatal: (m) => messages.push(m) });
    let loaded = false;
    d.onload = () => (loaded = true);
    await d.load();
    expect(loaded).toBe(false);
    expect(messages[0]).toContain('416');
  });

  it('keeps running in memory when storage is full, and says so once', async () => {
    const store = new MemoryOverlayStore();
    const warnings: string[] = [];
    const d = makeDisk(store, fakeBase().read, { onStorageError: (m) => warnings.push(m) });
    await d.load();
    store.failWith = new DOMException('full', 'QuotaExceededError');
    d.set(0, filled(512, 1), () => {});
    await d.flush();
    d.set(512, filled(512, 2), () => {});
    await d.flush();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('storage is full');
    expect((await getAsync(d, 0, 1024))[600]).toBe(2);
  });

  it('carries its pages in a v86 state; an empty overlay takes them, another disk refuses them', async () => {
    const d1 = makeDisk();
    await d1.load();
    d1.set(8192, filled(256, 3), () => {});
    const state = d1.get_state();

    const store = new MemoryOverlayStore();
    const d2 = makeDisk(store);
    await d2.load();
    expect(d2.isEmpty).toBe(true);
    d2.set_state(state);
    expect((await getAsync(d2, 8192, 512))[0]).toBe(3);
    await d2.flush();
    expect(store.pages.get(2)?.mask).toBe(1);

    const errors: string[] = [];
    const other = new OverlayDisk({ size: SIZE, diskVersion: 'v2', url: '/vm/disk/v2.ext2', read: fakeBase().read, store: new MemoryOverlayStore(), onFatal: (m) => errors.push(m) });
    await other.load();
    other.set_state(state);
    expect(errors[0]).toContain('another disk');
  });

  it('drops a stored overlay that belongs to another disk version', async () => {
    const store = new MemoryOverlayStore();
    store.meta = { id: 'old', diskVersion: 'v0', generation: 4 };
    store.pages.set(0, { data: filled(PAGE_BYTES, 1), mask: 0xffff });
    const d = makeDisk(store);
    await d.load();
    expect((await getAsync(d, 0, 512))[0]).toBe(baseByte(0));
    expect(store.pages.size).toBe(0);
  });

  it.each([12345, 1, 777, 31337, 2024])('keeps at most its cap of written pages in memory and reads the rest back from the store, losing nothing (random writes, reads, flushes, a reload; seed %i)', async (seed0) => {
    const CAP_PAGES = 8;
    // xorshift32: repeatable, and well spread over small ranges.
    let seed = seed0;
    const rnd = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const ref = new Uint8Array(SIZE);
    for (let i = 0; i < SIZE; i++) ref[i] = baseByte(i);
    const store = new MemoryOverlayStore();
    const d = makeDisk(store, fakeBase().read, { maxResidentBytes: CAP_PAGES * PAGE_BYTES });
    await d.load();
    const units = SIZE / 256;
    for (let op = 0; op < 600; op++) {
      const at = rnd(units) * 256;
      const len = Math.min(SIZE - at, (1 + rnd(24)) * 256); // up to 1.5 pages: partial pages too
      const kind = rnd(10);
      if (kind < 5) {
        const data = new Uint8Array(len);
        for (let i = 0; i < len; i++) data[i] = rnd(256);
        d.set(at, data, () => {});
        ref.set(data, at);
      } else if (kind < 9) {
        expect(Buffer.from(await getAsync(d, at, len)).equals(Buffer.from(ref.subarray(at, at + len))), `read at ${at}+${len} (op ${op})`).toBe(true);
      } else {
        await d.flush();
        expect(d.residentBytes).toBeLessThanOrEqual(CAP_PAGES * PAGE_BYTES);
      }
    }
    expect(d.overlayBytes).toBeGreaterThan(4 * CAP_PAGES * PAGE_BYTES); // far more was written than memory holds
    await d.close();
    expect(d.residentBytes).toBeLessThanOrEqual(CAP_PAGES * PAGE_BYTES);

    const again = makeDisk(store, fakeBase().read, { maxResidentBytes: CAP_PAGES * PAGE_BYTES });
    await again.load();
    expect(again.residentBytes).toBeLessThanOrEqual(CAP_PAGES * PAGE_BYTES);
    for (let at = 0; at < SIZE; at += 16 * 1024)
      expect(Buffer.from(await getAsync(again, at, 16 * 1024)).equals(Buffer.from(ref.subarray(at, at + 16 * 1024))), `after reload at ${at}`).toBe(true);
  });

  it('a VM state carries at most half of what memory holds (and never more than 32 MiB), so its pages are all at hand', async () => {
    const store = new MemoryOverlayStore();
    const d = makeDisk(store, fakeBase().read, { maxResidentBytes: 4 * PAGE_BYTES });
    await d.load();
    expect(d.maxSnapshotBytes).toBe(2 * PAGE_BYTES);
    d.set(0, filled(2 * PAGE_BYTES, 1), () => {});
    expect(d.tooBigToSnapshot).toBe(false);
    d.set(2 * PAGE_BYTES, filled(256, 2), () => {});
    expect(d.tooBigToSnapshot).toBe(true);
    await d.close();
    expect(makeDisk(new MemoryOverlayStore(), fakeBase().read).maxSnapshotBytes).toBe(MAX_SNAPSHOT_OVERLAY_BYTES);
  });

  it('a write to a page that only the store has, landing while that page is read back, keeps both', async () => {
    const store = new MemoryOverlayStore();
    const d = makeDisk(store, fakeBase().read, { maxResidentBytes: 2 * PAGE_BYTES });
    await d.load();
    // Page 0 gets units 0-1 written and stored, then is pushed out of memory by three other pages.
    d.set(0, filled(512, 7), () => {});
    await d.flush();
    for (const p of [1, 2, 3]) d.set(p * PAGE_BYTES, filled(PAGE_BYTES, p), () => {});
    await d.flush();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const getPage = store.getPage.bind(store);
    store.getPage = async (i) => (await gate, getPage(i));
    const read = getAsync(d, 0, PAGE_BYTES); // must fetch page 0 back from the store
    d.set(256, filled(256, 8), () => {}); // unit 1 rewritten meanwhile
    release();
    const got = await read;
    expect([got[0], got[256], got[512]]).toEqual([7, 8, baseByte(512)]);
    await d.close();
    // What is stored has both too: the older unit merged under the newer one.
    const stored = store.pages.get(0)!;
    expect([stored.data[0], stored.data[256], stored.mask]).toEqual([7, 8, 0b11]);
  });
});

describe('httpRangeReader', () => {
  const url = '/vm/disk/v1.ext2';
  const respond = (status: number, headers: Record<string, string>, body = new Uint8Array(0)) => (async () => new Response(status === 416 ? null : body, { status, headers })) as unknown as typeof fetch;

  it('returns the bytes of a correct 206', async () => {
    const read = httpRangeReader(url, 1000, respond(206, { 'content-range': 'bytes 10-13/1000' }, new Uint8Array([1, 2, 3, 4])));
    expect([...(await read(10, 4))]).toEqual([1, 2, 3, 4]);
  });

  it('names the disk for 416, a size mismatch, an ignored Range and HTTP errors', async () => {
    await expect(httpRangeReader(url, 1000, respond(416, { 'content-range': 'bytes */900' }))(950, 10)).rejects.toThrow(/\/vm\/disk\/v1.ext2 ends before byte 950 \(HTTP 416\)/);
    await expect(httpRangeReader(url, 1000, respond(206, { 'content-range': 'bytes 0-3/900' }, new Uint8Array(4)))(0, 4)).rejects.toThrow(/is 900 bytes, not the 1000 announced/);
    await expect(httpRangeReader(url, 1000, respond(200, {}, new Uint8Array(1000)))(0, 4)).rejects.toThrow(/ignored the Range header/);
    const e = (await httpRangeReader(url, 1000, respond(503, {}))(0, 4).catch((x: unknown) => x)) as DiskReadError;
    expect(e.message).toContain('HTTP 503');
    expect(e.transient).toBe(true);
    await expect(httpRangeReader(url, 1000, respond(206, { 'content-range': 'bytes 0-3/1000' }, new Uint8Array(2)))(0, 4)).rejects.toThrow(/sent 2 bytes/);
  });
});
