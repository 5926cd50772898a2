import { describe, expect, it } from 'vitest';
import { isTerminalReply } from './terminalReplies';

describe('terminal replies', () => {
  it('recognises cursor-position, device-attribute and status answers', () => {
    for (const r of ['\x1b[24;80R', '\x1b[1;1R\x1b[1;1R', '\x1b[?1;2c', '\x1b[>0;276;0c', '\x1b[0n']) expect(isTerminalReply(r), JSON.stringify(r)).toBe(true);
  });
  it('never swallows what a person typed', () => {
    for (const k of ['a', 'ls\r', '\x1b[A', '\x1b[1;5C', '\x03', '24;80R', '\x1b[24;80Rx', '']) expect(isTerminalReply(k), JSON.stringify(k)).toBe(false);
  });
});
