import { pino } from 'pino';

/** The one logger; each capability takes a child: `log.child({ cap: 'relay' })`. */
export const log = pino({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
  base: undefined,
});

/**
 * Keeps what anyone can trigger from flooding the log (failed sign-ins, junk frames): per key,
 * at most `perWindow` lines per `windowMs`; the lines held back are counted and the next line let
 * through says how many. At most `maxKeys` keys (oldest forgotten first).
 */
export class LogThrottle {
  private windows = new Map<string, { startMs: number; lines: number; suppressed: number }>();

  constructor(
    private perWindow = 5,
    private windowMs = 60_000,
    private maxKeys = 1000,
  ) {}

  /** ok: log this one (with `suppressed`: how many were held back since the last one logged). */
  allow(key: string, nowMs = Date.now()): { ok: boolean; suppressed: number } {
    let w = this.windows.get(key);
    if (!w || nowMs - w.startMs >= this.windowMs) {
      const suppressed = w?.suppressed ?? 0;
      this.windows.delete(key);
      this.windows.set(key, (w = { startMs: nowMs, lines: 0, suppressed }));
      if (this.windows.size > this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
    }
    if (w.lines >= this.perWindow) {
      w.suppressed++;
      return { ok: false, suppressed: 0 };
    }
    w.lines++;
    const suppressed = w.suppressed;
    w.suppressed = 0;
    return { ok: true, suppressed };
  }
}
