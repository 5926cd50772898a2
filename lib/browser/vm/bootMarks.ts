/** Prefix of the marks a boot leaves in the page's performance timeline. */
const BOOT_MARK_PREFIX = 'tandem:boot:';

/**
 * Marks a point of a boot (state chosen, engine loaded, emulator loaded, prompt) in the page's
 * performance timeline, with optional detail (e.g. bytes). Costs nothing noticeable; the bench
 * (scripts/bench/handover.ts) and the browser's performance panel read them to say where a
 * boot's time goes.
 */
export function bootMark(name: string, detail?: Record<string, string | number | boolean>): void {
  try {
    performance.mark(`${BOOT_MARK_PREFIX}${name}`, detail ? { detail } : undefined);
  } catch {
    /* no timeline (very old browser): nothing to mark */
  }
}
