/**
 * After a restart, the previous host's page (its VM still running) gets this long to reconnect
 * before another page may host; then the first waiting page that asked to host gets the seat.
 */
export const HOST_SEAT_KEPT_MS = 4000;
/**
 * A page that resumes its numbering resends what the room lacks within this long; until then its
 * frames must follow on exactly. A gap still open then (the page no longer had those frames) is
 * accepted: the page is asked once more and what it has goes on from there.
 */
export const RESEND_WINDOW_MS = 3000;

/**
 * Which page hosts a room (or hosted it last), and the seat kept for it after a server restart.
 * The page that hosted resumes its frame numbering when it comes back (it resends what the room
 * never got); any other page starts a new numbering.
 */
export class HostSeat {
  /** The page (client id) that hosts, or hosted last. */
  private lastClientId: string | null = null;
  private keptUntil = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private resendTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    /** The kept seat expired with pages waiting: the relay gives it to one of them. */
    private onRelease: () => void,
    /** The resumed host's resend window ended (RESEND_WINDOW_MS). */
    private onResendEnd: () => void,
    private now: () => number = Date.now,
  ) {}

  /** The room restarts: keep the seat for `clientId` (null: nobody hosted) for HOST_SEAT_KEPT_MS. */
  keepFor(clientId: string | null): void {
    this.lastClientId = clientId;
    if (clientId) this.keptUntil = this.now() + HOST_SEAT_KEPT_MS;
  }

  /** Whether the seat is kept for another page than `clientId`; a page waiting to host starts the release timer. */
  keptFrom(clientId: string, wantHost: boolean): boolean {
    const kept = this.now() < this.keptUntil && clientId !== this.lastClientId;
    if (kept && wantHost) this.timer ??= setTimeout(() => this.release(), this.keptUntil - this.now());
    return kept;
  }

  /** Whether `clientId` is the page that hosted last (it resumes its numbering). */
  isLast(clientId: string): boolean {
    return clientId === this.lastClientId;
  }

  /** `clientId` takes the seat: nothing is kept for anyone else any more; a resuming page gets its resend window. */
  taken(clientId: string, resumed: boolean): void {
    this.lastClientId = clientId;
    this.keptUntil = 0;
    this.close();
    if (resumed) this.resendTimer = setTimeout(() => ((this.resendTimer = null), this.onResendEnd()), RESEND_WINDOW_MS);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.resendTimer) clearTimeout(this.resendTimer);
    this.timer = this.resendTimer = null;
  }

  private release(): void {
    this.timer = null;
    this.keptUntil = 0;
    this.onRelease();
  }
}
