import type { V86 } from 'v86';
import { describe, expect, it } from 'vitest';
import { SerialConsole } from './SerialConsole';

/** Just enough of v86 for the console: its COM1 output listener and what was sent on each port. */
function fakeEmulator() {
  let out: ((b: number) => void) | null = null;
  const sent: [number, string][] = [];
  const emulator = {
    add_listener: (_e: string, f: (b: number) => void) => (out = f),
    serial_send_bytes: (port: number, bytes: Uint8Array) => sent.push([port, new TextDecoder().decode(bytes)]),
  } as unknown as V86;
  const print = (s: string) => {
    for (const b of new TextEncoder().encode(s)) out!(b);
  };
  return { emulator, print, sent };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

describe('SerialConsole', () => {
  it('batches output to listeners and resolves the boot at the first prompt mark', async () => {
    const c = new SerialConsole();
    const { emulator, print } = fakeEmulator();
    c.attach(emulator);
    const seen: string[] = [];
    c.onOutput((s) => seen.push(s));
    let prompted = false;
    void c.untilPrompt(() => {}).then(() => (prompted = true));
    print('Linux booting\r\n');
    await tick();
    expect(prompted).toBe(false);
    print('\x1b]133;A\x07user@tandem:~$ ');
    await tick();
    expect(prompted).toBe(true);
    expect(seen.join('')).toBe('Linux booting\r\n\x1b]133;A\x07user@tandem:~$ ');
    expect(c.lastOutputAt).toBeGreaterThan(0);
  });

  it('reports a kernel panic while booting, with its reason', async () => {
    const c = new SerialConsole();
    const { emulator, print } = fakeEmulator();
    c.attach(emulator);
    const reasons: string[] = [];
    void c.untilPrompt((r) => reasons.push(r));
    print('Kernel panic - not syncing: VFS: Unable to mount root fs\r\n');
    await tick();
    expect(reasons[0]).toBe('VFS: Unable to mount root fs');
  });

  it('types on COM1 and sends the clock on COM2', () => {
    const c = new SerialConsole();
    const { emulator, sent } = fakeEmulator();
    c.attach(emulator);
    c.write('ls\r');
    c.syncGuestClock();
    expect(sent[0]).toEqual([0, 'ls\r']);
    expect(sent[1][0]).toBe(1);
    expect(Number(sent[1][1])).toBeCloseTo(Date.now() / 1000, -1);
    c.close();
    c.write('lost');
    expect(sent).toHaveLength(2);
  });
});
