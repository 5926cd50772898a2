import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import { HeadlessHostPool, MAX_RESTARTS } from './HeadlessHostPool';

/**
 * The pool's bookkeeping against a stand-in for Playwright's browser (the boundary: Chromium
 * itself is exercised by the chaos test in server/host/chaos.integration.test.ts).
 */
function fakeBrowser(opts: { gotoFails?: (n: number) => boolean; delayMs?: number } = {}) {
  const contexts: { closed: boolean; page: EventEmitter }[] = [];
  let gotos = 0;
  const pause = () => new Promise((r) => setTimeout(r, opts.delayMs ?? 5));
  const browser = Object.assign(new EventEmitter(), {
    async newContext() {
      await pause();
      const page = Object.assign(new EventEmitter(), {
        async goto() {
          await pause();
          if (opts.gotoFails?.(++gotos)) throw new Error('navigation failed');
        },
        async reload() {},
      });
      const ctx = { closed: false, page };
      contexts.push(ctx);
      return {
        async newPage() {
          return page;
        },
        async close() {
          ctx.closed = true;
        },
      };
    },
    async close() {},
  });
  return { browser: browser as unknown as Browser, contexts, open: () => contexts.filter((c) => !c.closed).length };
}

let pool: HeadlessHostPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});
const make = (b: ReturnType<typeof fakeBrowser>, extra: Partial<ConstructorParameters<typeof HeadlessHostPool>[0]> = {}) =>
  (pool = new HeadlessHostPool({ baseUrl: 'http://127.0.0.1:1', log: pino({ level: 'silent' }), maxHosts: 2, launchBrowser: async () => b.browser, ...extra }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('HeadlessHostPool', () => {
  it('prepare() starts the browser once, opening no page; the next host reuses it', async () => {
    const b = fakeBrowser();
    let launches = 0;
    const p = make(b, { launchBrowser: async () => (launches++, b.browser) });
    p.prepare();
    p.prepare();
    await sleep(10);
    expect([launches, b.open()]).toEqual([1, 0]);
    await p.ensureHost('a');
    expect([launches, b.open()]).toEqual([1, 1]);
  });

  it('checks capacity atomically: concurrent ensureHost calls for many rooms never open more than maxHosts', async () => {
    const b = fakeBrowser({ delayMs: 20 });
    const p = make(b);
    const results = await Promise.allSettled(['a', 'b', 'c', 'd', 'e'].map((r) => p.ensureHost(r)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(b.open()).toBe(2);
    expect(p.rooms).toHaveLength(2);
  });

  it('forget() closes a room’s page, also one still opening when asked, and leaves other rooms alone', async () => {
    const b = fakeBrowser({ delayMs: 20 });
    const p = make(b);
    await p.ensureHost('kept');
    const opening = p.ensureHost('gone');
    await p.forget('gone'); // asked before the page exists
    await opening;
    expect(p.rooms).toEqual(['kept']);
    expect(b.open()).toBe(1);
    await p.forget('kept');
    await p.forget('never-hosted');
    expect([p.rooms, b.open()]).toEqual([[], 0]);
  });

  it('a page that fails to load leaves no browser context behind and frees its slot', async () => {
    const b = fakeBrowser({ gotoFails: (n) => n === 1 });
    const p = make(b);
    await expect(p.ensureHost('a')).rejects.toThrow('navigation failed');
    expect(b.open()).toBe(0);
    expect(p.rooms).toEqual([]);
    await p.ensureHost('a');
    expect(b.open()).toBe(1);
  });

  it('a crash restarts once, even when the crash is reported twice, and never leaks a context', async () => {
    const b = fakeBrowser();
    const p = make(b);
    await p.ensureHost('a');
    b.contexts[0].page.emit('crash');
    b.contexts[0].page.emit('crash');
    await sleep(50);
    expect(b.contexts).toHaveLength(2);
    expect(b.open()).toBe(1);
    expect(p.rooms).toEqual(['a']);
  });

  it('stops restarting a page that keeps crashing, but a page healthy for a while starts counting again', async () => {
    const b = fakeBrowser();
    const p = make(b, { healthyResetMs: 60 });
    await p.ensureHost('a');
    // Healthy between crashes: restarted every time, past MAX_RESTARTS.
    for (let i = 0; i < MAX_RESTARTS + 2; i++) {
      await sleep(80);
      b.contexts.at(-1)!.page.emit('crash');
      await sleep(20);
    }
    expect(b.contexts).toHaveLength(MAX_RESTARTS + 3);
    expect(p.rooms).toEqual(['a']);
    // Crashing at once each time: given up after MAX_RESTARTS.
    for (let i = 0; i < MAX_RESTARTS + 2; i++) {
      b.contexts.at(-1)!.page.emit('crash');
      await sleep(20);
    }
    expect(p.rooms).toEqual([]);
    expect(b.open()).toBe(0);
  });
});
