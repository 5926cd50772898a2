import { ShellIntegration, type ShellEvent } from '../../lib/shared/ShellIntegration';

/**
 * Where a room's shell stands, as far as the output stream tells:
 *   unknown  a host (re)connected and we have not seen its prompt yet
 *   prompt   a B mark (input starts) and no line feed since: idle, safe to type into
 *   busy     something runs (someone pressed Enter, or a prompt is being printed)
 */
export type ShellState = 'unknown' | 'prompt' | 'busy';

/** One room's shell as the command queue watches it through the OSC 133 marks of its main terminal. */
export class RoomShell {
  readonly parser = new ShellIntegration();
  state: ShellState = 'unknown';
  /** When the host was first seen 'ready' while the state was unknown. */
  readySince: number | null = null;
  /** A bare Enter was typed once to make the shell print a prompt we could see. */
  provoked = false;
  /** The queue's next look at a room whose host is not ready yet. */
  poll: ReturnType<typeof setTimeout> | null = null;

  /** An event of the stream while none of our commands runs: people typing, programs printing. */
  idle(ev: ShellEvent): void {
    switch (ev.kind) {
      case 'input':
        this.state = 'prompt';
        return;
      case 'prompt':
      case 'done':
      case 'output':
        this.state = 'busy';
        return;
      case 'text':
        // Enter at the prompt (or anything printing lines while we did not know): a program may be running.
        if (this.state !== 'busy' && ev.text.includes('\n')) this.state = 'busy';
        return;
    }
  }

  dispose(): void {
    if (this.poll) clearTimeout(this.poll);
  }
}
