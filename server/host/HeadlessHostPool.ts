import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Logger } from 'pino';
import { CHROMIUM_ARGS, findChromium } from './findChromium';
import { secureContextArgs } from './internalBase';

export const MAX_HEADLESS_HOSTS = 4;
/** A headless host with nothing to do for this long is closed. */
export const HEADLESS_IDLE_MS = 5 * 60 * 1000;
/** A crashed page is reopened at most this many times in a row. */
export const MAX_RESTARTS = 3;
/** A page that ran this long before crashing was healthy: its restart count starts again. */
export const HEALTHY_RESET_MS = 5 * 60 * 1000;
/** A host active more recently than this is never closed to make room for another room. */
const EVICT_IDLE_MS = 10_000;

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
  healthyResetMs?: number;
  /** Starts the browser (tests pass their own); default: Playwright's Chromium at chromiumPath. */
  launchBrowser?: () => Promise<Browser>;
}

interface HostPage {
  room: string;
  context: BrowserContext;
  page: Page;
  lastActive: number;
  restarts: number;
  openedAt: number;
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
  /** Pages being opened, counted against maxHosts from the moment they are asked for. */
  private opening = 0;
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
    return this.track(room, existing ? this.reload(existing) : this.open(room));
  }

  /** Records a start in progress so concurrent calls for the room share it. */
  private track(room: string, p: Promise<void>): Promise<void> {
    const q = p.finally(() => {
      if (this.starting.get(room) === q) this.starting.delete(room);
    });
    this.starting.set(room, q);
    return q;
  }

  /** Starts the browser now (a few seconds) if it is not running, so a host that may soon be needed opens at once. */
  prepare(): void {
    if (!this.closed) void this.launch().catch((err) => this.opts.log.warn({ err: String(err) }, 'headless browser did not start'));
  }

  async release(room: string): Promise<void> {
    const h = this.hosts.get(room);
    if (!h) return;
    this.hosts.delete(room);
    await h.context.close().catch(() => {});
    this.opts.log.info({ room }, 'headless host closed');
  }

  /**
   * The room is gone (archived or deleted): its page closes now, with its VM, rather than idling
   * out. A page still opening (or restarting) for it is closed once it has opened.
   */
  async forget(room: string): Promise<void> {
    await this.starting.get(room)?.catch(() => {});
    await this.release(room);
  }

  private launch(): Promise<Browser> {
    this.browser ??= (async () => {
      const b = this.opts.launchBrowser ? await this.opts.launchBrowser() : await launchChromium(this.opts.chromiumPath, secureContextArgs(this.opts.baseUrl));
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
    // Capacity is decided before the first await, counting pages still opening: concurrent calls
    // for different rooms cannot all see a free slot.
    if (this.hosts.size + this.opening >= this.maxHosts) {
      const idlest = [...this.hosts.values()].sort((a, b) => a.lastActive - b.lastActive)[0];
      if (!idlest || Date.now() - idlest.lastActive < EVICT_IDLE_MS) throw new Error(`all ${this.maxHosts} headless hosts are busy`);
      void this.release(idlest.room);
    }
    this.opening++;
    let context: BrowserContext | null = null;
    try {
      const browser = await this.launch();
      context = await browser.newContext();
      if (this.closed) throw new Error('headless host pool is closed');
      const page = await context.newPage();
      const h: HostPage = { room, context, page, lastActive: Date.now(), restarts, openedAt: Date.now() };
      this.watch(h);
      this.hosts.set(room, h);
      const token = this.opts.hostToken?.(room);
      const url = `${this.opts.baseUrl}/r/${encodeURIComponent(room)}${token ? `#host=${encodeURIComponent(token)}` : ''}`;
      await page.goto(url, { waitUntil: 'domcontentloaded' });
      this.opts.log.info({ room }, 'headless host opened');
    } catch (err) {
      // Nothing half-open stays behind: the context (and its page) closes, the room is free again.
      if (this.hosts.get(room)?.context === context) this.hosts.delete(room);
      await context?.close().catch(() => {});
      throw err;
    } finally {
      this.opening--;
    }
  }

  private watch(h: HostPage): void {
    const { room, page } = h;
    const log = this.opts.log.child({ room });
    page.on('console', (m) => (m.type() === 'error' ? log.warn({ text: m.text() }, 'page console') : log.debug({ text: m.text() }, 'page console')));
    page.on('pageerror', (err) => log.warn({ err: err.message }, 'page error'));
    page.on('crash', () => {
      log.error('headless host page crashed');
      void this.restart(h);
    });
  }

  private async reload(h: HostPage): Promise<void> {
    h.lastActive = Date.now();
    await h.page.reload({ waitUntil: 'domcontentloaded' });
  }

  private async restart(h: HostPage): Promise<void> {
    // Only the page still hosting its room restarts, and only once: a second crash event, or a
    // start already under way for the room, must not open a second context beside the first.
    if (this.closed || this.hosts.get(h.room) !== h || this.starting.has(h.room)) return;
    this.hosts.delete(h.room);
    const healthyMs = this.opts.healthyResetMs ?? HEALTHY_RESET_MS;
    const restarts = Date.now() - h.openedAt >= healthyMs ? 0 : h.restarts;
    const reopen = (async () => {
      await h.context.close().catch(() => {});
      if (restarts >= MAX_RESTARTS) {
        this.opts.log.error({ room: h.room }, 'headless host keeps crashing; not restarting');
        return;
      }
      await this.open(h.room, restarts + 1);
    })();
    await this.track(h.room, reopen).catch((err) => this.opts.log.error({ err: String(err), room: h.room }, 'restart failed'));
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

/** Our headless Chromium; `extraArgs` after the usual ones (e.g. secureContextArgs). */
export async function launchChromium(chromiumPath?: string | null, extraArgs: string[] = []): Promise<Browser> {
  const executablePath = chromiumPath ?? findChromium();
  if (!executablePath) throw new Error('no Chromium found for the headless host: install chromium or set CHROMIUM_PATH');
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}
