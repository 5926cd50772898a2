import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Logger } from 'pino';
import { CHROMIUM_ARGS, findChromium } from './findChromium';

export const MAX_HEADLESS_HOSTS = 4;
/** A headless host with nothing to do for this long is closed. */
export const HEADLESS_IDLE_MS = 5 * 60 * 1000;
/** A crashed page is reopened at most this many times in a row. */
const MAX_RESTARTS = 3;

export interface HeadlessHostPoolOptions {
  /** Where the server is reachable from this machine, e.g. http://localhost:3000 */
  baseUrl: string;
  /** Signs the room's host token; without one the page joins as an ordinary browser would. */
  hostToken?: (room: string) => string;
  log: Logger;
  maxHosts?: number;
  idleMs?: number;
  chromiumPath?: string | null;
  /** A room with work in progress (a command running or queued) is never closed as idle. */
  busy?: (room: string) => boolean;
}

interface HostPage {
  room: string;
  context: BrowserContext;
  page: Page;
  lastActive: number;
  restarts: number;
}

/**
 * Runs room hosts in the server's own headless Chromium when no human hosts: a command queued
 * for an empty room starts one. Each room gets its own browser context and page, opened with a
 * signed host token; pages that crash are reopened, idle ones closed, and a human who opens the
 * room takes the host seat over (the page then just watches until it idles out).
 */
export class HeadlessHostPool {
  private browser: Promise<Browser> | null = null;
  private hosts = new Map<string, HostPage>();
  private starting = new Map<string, Promise<void>>();
  private reaper: ReturnType<typeof setInterval>;
  private closed = false;
  private readonly maxHosts: number;
  private readonly idleMs: number;

  constructor(private opts: HeadlessHostPoolOptions) {
    this.maxHosts = opts.maxHosts ?? MAX_HEADLESS_HOSTS;
    this.idleMs = opts.idleMs ?? HEADLESS_IDLE_MS;
    this.reaper = setInterval(() => this.reapIdle(), Math.min(this.idleMs, 30_000)).unref();
  }

  get rooms(): string[] {
    return [...this.hosts.keys()];
  }

  /** Marks a room's headless host as busy, so it is not closed as idle. */
  touch(room: string): void {
    const h = this.hosts.get(room);
    if (h) h.lastActive = Date.now();
  }

  /**
   * Makes sure a headless page is hosting `room`. An existing page that lost its host seat (a
   * human came and went) is reloaded so it claims the seat again.
   */
  ensureHost(room: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('headless host pool is closed'));
    const pending = this.starting.get(room);
    if (pending) return pending;
    const existing = this.hosts.get(room);
    const p = (existing ? this.reload(existing) : this.open(room)).finally(() => this.starting.delete(room));
    this.starting.set(room, p);
    return p;
  }

  async release(room: string): Promise<void> {
    const h = this.hosts.get(room);
    if (!h) return;
    this.hosts.delete(room);
    await h.context.close().catch(() => {});
    this.opts.log.info({ room }, 'headless host closed');
  }

  private launch(): Promise<Browser> {
    this.browser ??= (async () => {
      const executablePath = this.opts.chromiumPath ?? findChromium();
      if (!executablePath) throw new Error('no Chromium found for the headless host: install chromium or set CHROMIUM_PATH');
      const { chromium } = await import('playwright-core');
      const b = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
      b.on('disconnected', () => {
        this.browser = null;
        if (this.closed) return;
        this.opts.log.warn('headless browser exited; rooms will be reopened on demand');
        this.hosts.clear();
      });
      return b;
    })().catch((err) => {
      this.browser = null;
      throw err;
    });
    return this.browser;
  }

  private async open(room: string, restarts = 0): Promise<void> {
    if (this.hosts.size >= this.maxHosts) {
      const idlest = [...this.hosts.values()].sort((a, b) => a.lastActive - b.lastActive)[0];
      if (!idlest || Date.now() - idlest.lastActive < 10_000)
        throw new Error(`all ${this.maxHosts} headless hosts are busy`);
      await this.release(idlest.room);
    }
    const browser = await this.launch();
    const context = await browser.newContext();
    const page = await context.newPage();
    const h: HostPage = { room, context, page, lastActive: Date.now(), restarts };
    this.hosts.set(room, h);
    const log = this.opts.log.child({ room });
    page.on('console', (m) => (m.type() === 'error' ? log.warn({ text: m.text() }, 'page console') : log.debug({ text: m.text() }, 'page console')));
    page.on('pageerror', (err) => log.warn({ err: err.message }, 'page error'));
    page.on('crash', () => {
      log.error('headless host page crashed');
      void this.restart(h);
    });
    const token = this.opts.hostToken?.(room);
    const url = `${this.opts.baseUrl}/r/${encodeURIComponent(room)}${token ? `#host=${encodeURIComponent(token)}` : ''}`;
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    log.info('headless host opened');
  }

  private async reload(h: HostPage): Promise<void> {
    h.lastActive = Date.now();
    await h.page.reload({ waitUntil: 'domcontentloaded' });
  }

  private async restart(h: HostPage): Promise<void> {
    if (this.closed || this.hosts.get(h.room) !== h) return;
    await this.release(h.room);
    if (h.restarts >= MAX_RESTARTS) {
      this.opts.log.error({ room: h.room }, 'headless host keeps crashing; not restarting');
      return;
    }
    await this.open(h.room, h.restarts + 1).catch((err) => this.opts.log.error({ err, room: h.room }, 'restart failed'));
  }

  private reapIdle(): void {
    const now = Date.now();
    for (const h of this.hosts.values()) {
      if (this.opts.busy?.(h.room)) h.lastActive = now; // a long command keeps its host; idle time counts from its end
      else if (now - h.lastActive > this.idleMs) void this.release(h.room);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.reaper);
    const b = this.browser;
    this.browser = null;
    this.hosts.clear();
    if (b) await (await b.catch(() => null))?.close().catch(() => {});
  }
}
