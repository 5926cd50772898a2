/**
 * Answers a terminal sends by itself to the program's queries: cursor position (ESC[r;cR),
 * device attributes (ESC[?…c, ESC[>…c) and status (ESC[0n). Every guest's xterm answers the
 * shell's queries too; only the host's answer is the VM's, so guests drop theirs.
 */
const REPLY_RE = /^(?:\x1b\[\d+;\d+R|\x1b\[[?>][\d;]*c|\x1b\[\d*n)+$/;

export function isTerminalReply(data: string): boolean {
  return REPLY_RE.test(data);
}
