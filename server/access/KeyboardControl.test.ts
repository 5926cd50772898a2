import { describe, expect, it } from 'vitest';
import type { ControlState } from '../../lib/shared/protocol';
import { accessOf } from '../testing/access';
import { KeyboardControl, type ControlMirror } from './KeyboardControl';
import { DEFAULT_CONTROL } from './RoomControl';

const who = accessOf;
const owner = who('u:owner', { role: 'owner', canManage: true });
const driver = who('g:driver');

/** The mirror as the rooms' documents keep it: what was saved is what loads. */
function memoryMirror(): ControlMirror & { saved: Map<string, ControlState>; loads: number } {
  const saved = new Map<string, ControlState>();
  const m = {
    saved,
    loads: 0,
    load: (room: string) => {
      m.loads++;
      return saved.get(room) ?? { ...DEFAULT_CONTROL };
    },
    save: (room: string, s: ControlState) => void saved.set(room, s),
  };
  return m;
}

describe('KeyboardControl', () => {
  it('decides from its own copy and mirrors every change', () => {
    const mirror = memoryMirror();
    let typers = new Set(['u:owner', 'g:driver']);
    const k = new KeyboardControl({ mirror, memberCanType: (_r, m) => typers.has(m) });
    expect(k.mayType('r', driver)).toBe(true);
    k.request('r', owner, 'control:mode', { mode: 'single' });
    expect(mirror.saved.get('r')).toMatchObject({ mode: 'single', holder: 'u:owner' });
    expect(k.mayType('r', driver)).toBe(false);
    k.request('r', owner, 'control:grant', { memberId: 'g:driver' });
    expect(k.mayType('r', driver)).toBe(true);
    // Demoted: the holder loses the keyboard.
    typers = new Set(['u:owner']);
    k.recheck('r');
    expect(k.get('r').holder).toBeNull();
  });

  it("a room's entry is reaped with the room and reloads from the mirror", () => {
    const mirror = memoryMirror();
    const k = new KeyboardControl({ mirror, memberCanType: () => true });
    k.request('r', owner, 'control:mode', { mode: 'single' });
    k.get('s');
    expect(k.size).toBe(2);
    k.forget('r');
    k.forget('s');
    expect(k.size).toBe(0);
    const loads = mirror.loads;
    expect(k.get('r')).toMatchObject({ mode: 'single', holder: 'u:owner' });
    expect(mirror.loads).toBe(loads + 1);
  });
});
