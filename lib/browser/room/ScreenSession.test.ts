import { describe, expect, it } from 'vitest';
import type { ScreenInputEvent } from '../../shared/protocol';
import type { ScreenVm } from '../vm/ScreenVm';
import { ScreenSession } from './ScreenSession';
import { fakeConnection, roomState } from './testing/fakeRoom';

const tick = () => new Promise((r) => setTimeout(r, 0));

function setup() {
  const c = fakeConnection();
  const inputs: ((e: ScreenInputEvent[]) => void)[] = [];
  const pump = { active: false, resent: 0, stopped: false };
  const vm = {
    name: 'v86' as const,
    canvas: { focus() {}, tabIndex: -1 } as unknown as HTMLCanvasElement,
    tailscale: null,
    got: [] as ScreenInputEvent[],
    destroyed: false,
    input(e: ScreenInputEvent) {
      vm.got.push(e);
    },
    boot: async (p: (x: { phase: 'ready'; progress: number; message: string }) => void) => p({ phase: 'ready', progress: 1, message: 'up' }),
    destroy: async () => void (vm.destroyed = true),
  };
  const session = new ScreenSession({
    connect: c.connect,
    createVm: async () => vm as unknown as ScreenVm,
    makePump: () => ({ setActive: (on) => void (pump.active = on), resend: () => void pump.resent++, stop: () => void (pump.stopped = true) }),
    attachInput: (_, send) => (inputs.push(send), () => {}),
    guestCanvas: () => ({}) as HTMLCanvasElement,
    drawFrame: () => {},
  });
  return { c, session, inputs, pump, vm };
}

const key: ScreenInputEvent = { t: 'key', code: 'KeyA', down: true } as unknown as ScreenInputEvent;

describe('ScreenSession', () => {
  it('a guest sends keyboard and mouse until the server refuses it, then shows read-only until the state changes', () => {
    const { c, session, inputs } = setup();
    c.receive('room:state', roomState());
    inputs[0]([key]);
    expect(c.of('screen:input')).toHaveLength(1);
    c.receive('room:error', { code: 'FORBIDDEN', message: 'no keyboard', event: 'screen:input' });
    expect(session.getSnapshot().readOnly).toBe(true);
    inputs[0]([key]);
    expect(c.of('screen:input')).toHaveLength(1);
    c.receive('room:state', roomState({ guests: 2 }));
    expect(session.getSnapshot().readOnly).toBe(false);
    // "No host" is the banner's to say, not a notice.
    c.receive('room:error', { code: 'NO_HOST', message: 'no host', event: 'screen:input' });
    expect(session.getSnapshot().notice).toBeNull();
  });

  it('the host boots the VM, streams frames only while someone watches, and hands over cleanly', async () => {
    const { c, session, pump, vm } = setup();
    c.receive('room:state', roomState({ seat: 'host' }));
    await tick();
    expect(session.getSnapshot()).toMatchObject({ vm: { name: 'v86' }, boot: { phase: 'ready' } });
    expect(pump.active).toBe(false);
    c.receive('room:state', roomState({ seat: 'host', guests: 1 }));
    expect(pump.active).toBe(true);
    c.receive('screen:input', { events: [key] });
    expect(vm.got).toEqual([key]);
    c.receive('room:state', roomState({ seat: 'guest' }));
    await tick();
    expect(vm.destroyed && pump.stopped).toBe(true);
    expect(session.getSnapshot()).toMatchObject({ vm: null, boot: null, notice: 'Another browser is hosting this room now; you are watching.' });
  });
});
