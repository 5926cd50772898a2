import { describe, expect, it } from 'vitest';
import { MAX_OUTPUT_CHUNK_BYTES } from '../../shared/protocol';
import { NOTICE_MS } from './SessionCore';
import { roomSession, roomState } from './testing/fakeRoom';

const tick = () => new Promise((r) => setTimeout(r, 0));

const setup = () => roomSession();

describe('RoomSession as a guest', () => {
  it('keeps the last `me`, takes the host size and the relayed stream, and sends keys only while it may type', () => {
    const { c, session, views } = setup();
    const me = { memberId: 'g:1', name: 'Ann', role: 'driver' as const, canType: true, canManage: false, canHost: false };
    c.receive('room:state', roomState({ me }));
    c.receive('room:state', roomState({ guests: 2 }));
    expect(session.getSnapshot().state).toMatchObject({ guests: 2, me });

    const main = views.get('main')!;
    expect(main.visible).toBe(true);
    c.receive('term:resize', { tab: 'main', cols: 100, rows: 30 });
    expect(main.size).toEqual({ cols: 100, rows: 30 });
    c.receive('term:out', { tab: 'main', seq: 1, data: 'hi' });
    expect(main.frames).toEqual([{ tab: 'main', seq: 1, data: 'hi' }]);

    main.h.onInput('main', 'ls\r');
    // The terminal's own answers to queries (cursor reports) are not keystrokes: never relayed.
    main.h.onInput('main', '\x1b[5;1R');
    expect(c.of('term:in')).toEqual([{ tab: 'main', data: 'ls\r' }]);

    session.setCanType(false);
    expect(main.readOnly).toBe(true);
    main.h.onInput('main', 'x');
    expect(c.of('term:in')).toHaveLength(1);
  });

  it('follows the tab list: a new tab asks for its snapshot, a closed one goes, the active falls back to main', () => {
    const { c, session, views } = setup();
    c.receive('room:state', roomState({ tabs: [{ id: 'main', title: 'Terminal' }, { id: 't2', title: 'Terminal 2' }] }));
    expect(c.of('term:sync')).toEqual([{ tab: 't2' }]);
    session.show('t2');
    expect(session.getSnapshot().activeTab).toBe('t2');
    expect([views.get('main')!.visible, views.get('t2')!.visible]).toEqual([false, true]);
    c.receive('room:state', roomState());
    expect(views.get('t2')!.disposed).toBe(true);
    expect(session.getSnapshot().activeTab).toBe('main');
  });

  it('never runs a VM, and ignores what only the host handles', async () => {
    const { c, engines, views } = setup();
    c.receive('room:state', roomState());
    c.receive('term:in', { tab: 'main', data: 'rm -rf /\r' });
    await tick();
    expect(engines).toEqual([]);
    expect(views.get('main')!.written).toBe('');
  });
});

describe('RoomSession as the host', () => {
  it('boots a VM per tab, reports the main one’s status, relays its output in capped frames and writes keys from guests into it', async () => {
    const { c, session, views, engines } = setup();
    c.receive('room:state', roomState({ seat: 'host' }));
    await tick();
    expect(engines).toHaveLength(1);
    expect(c.of('term:resize')).toEqual([{ tab: 'main', cols: 80, rows: 24 }]);
    expect(c.of('host:status')).toEqual([{ tab: 'main', phase: 'booting', progress: 0.5, message: 'booting' }]);
    engines[0].finishBoot();
    await tick();
    expect(session.getSnapshot().boot?.phase).toBe('ready');
    expect(session.getSnapshot().mainVm).toEqual({ name: 'v86', tailscale: null });

    const big = 'x'.repeat(MAX_OUTPUT_CHUNK_BYTES + 10);
    engines[0].print(big);
    expect(views.get('main')!.written).toBe(big);
    expect(c.of('term:out')).toEqual([
      { tab: 'main', seq: 1, data: big.slice(0, MAX_OUTPUT_CHUNK_BYTES) },
      { tab: 'main', seq: 2, data: 'x'.repeat(10) },
    ]);
    c.receive('term:in', { tab: 'main', data: 'ls\r' });
    views.get('main')!.h.onInput('main', 'pwd\r');
    expect(engines[0].typed).toBe('ls\rpwd\r');

    c.receive('room:state', roomState({ seat: 'host', tabs: [{ id: 'main', title: 'Terminal' }, { id: 't2', title: 'Terminal 2' }] }));
    await tick();
    expect(engines).toHaveLength(2);
    // Only the main terminal's boot is the room's status.
    expect(c.of('host:status')).toHaveLength(2);
  });

  it('after a reconnect in the same seat, tells the server the status and sizes again, once', async () => {
    const { c, engines } = setup();
    c.receive('room:state', roomState({ seat: 'host' }));
    await tick();
    engines[0].finishBoot();
    await tick();
    const before = c.of('host:status').length;
    c.reconnected();
    c.receive('room:state', roomState({ seat: 'host' }));
    c.receive('room:state', roomState({ seat: 'host', guests: 1 }));
    expect(c.of('host:status')).toHaveLength(before + 1);
    expect(c.of('term:resize')).toHaveLength(2);
  });

  it('drops output past a cap while disconnected rather than buffering without bound', async () => {
    const { c, engines } = setup();
    c.receive('room:state', roomState({ seat: 'host' }));
    await tick();
    c.socket.connected = false;
    c.socket.sendBuffer = new Array(1000);
    engines[0].print('lost');
    expect(c.of('term:out')).toEqual([]);
  });

  it('hands over: stops its VMs, says so for a while, and asks the server for the current screens', async () => {
    const { c, session, engines, t } = setup();
    c.receive('room:state', roomState({ seat: 'host' }));
    await tick();
    c.receive('room:state', roomState({ seat: 'guest' }));
    await tick();
    expect(engines[0].destroyed).toBe(true);
    expect(session.getSnapshot()).toMatchObject({ boot: null, mainVm: null, notice: 'Another browser is hosting this room now; you are watching.' });
    expect(c.of('term:sync')).toEqual([{ tab: 'main' }]);
    t.fireAll();
    expect(session.getSnapshot().notice).toBeNull();
    expect(NOTICE_MS).toBeGreaterThan(0);
  });

  it('Save VM says what it saved; Reset VM clears storage, restarts every screen (RIS to guests) and boots cold', async () => {
    const { c, session, engines, requests, views, resets } = setup();
    c.receive('room:state', roomState({ seat: 'host' }));
    await tick();
    await session.save();
    expect(session.getSnapshot().notice).toMatch(/^Saved the VM \(1\.0 MB in 0\.5 s\)/);

    requests[0].notice('storage is full', { reset: true });
    expect(session.getSnapshot()).toMatchObject({ engineNotice: 'storage is full', offerReset: true });
    await session.reset();
    await tick();
    expect(resets()).toBe(1);
    expect(engines[0].destroyed).toBe(true);
    expect(engines).toHaveLength(2);
    expect(requests[1].coldBoot).toBe(true);
    expect(views.get('main')!.resets).toBeGreaterThan(0);
    expect(c.of('term:out').at(-1)).toEqual({ tab: 'main', seq: 1, data: '\x1bc' });
    expect(session.getSnapshot()).toMatchObject({ engineNotice: null, offerReset: false });
  });

  it('opens and closes tabs through the server, never the main one, and not past the cap', async () => {
    const { c, session } = setup();
    session.openTab();
    expect(c.of('tab:open')).toEqual([]); // a guest cannot
    c.receive('room:state', roomState({ seat: 'host' }));
    session.openTab();
    expect(c.of('tab:open')).toHaveLength(1);
    session.closeTab('main');
    session.closeTab('t2');
    expect(c.of('tab:close')).toEqual([{ tab: 't2' }]);
  });

  it('a failing engine is a failed boot with the reason', async () => {
    const { c, session } = roomSession({
      createEngine: async () => {
        throw new Error('no WebAssembly');
      },
    });
    c.receive('room:state', roomState({ seat: 'host' }));
    await tick();
    expect(session.getSnapshot().boot).toEqual({ phase: 'failed', progress: 1, message: 'no WebAssembly' });
  });
});

describe('RoomSession lifecycle', () => {
  it('refits the host on window resize, and removes that listener, its timers and views when disposed', async () => {
    const { c, session, views, win, t } = setup();
    c.receive('room:state', roomState({ seat: 'host' }));
    const fits = views.get('main')!.fits;
    win.fire();
    expect(views.get('main')!.fits).toBe(fits + 1);
    // A fit that changes the size tells the server (guests follow the host's size); one that does not, nothing.
    const sizes = c.of('term:resize').length;
    views.get('main')!.boxSize = { cols: 50, rows: 40 };
    win.fire();
    win.fire();
    expect(c.of('term:resize').slice(sizes)).toEqual([{ tab: 'main', cols: 50, rows: 40 }]);
    session.flash('hello');
    session.dispose();
    expect(win.count()).toBe(0);
    expect(t.count()).toBe(0);
    expect(c.socket.disconnected).toBe(true);
    expect(views.get('main')!.disposed).toBe(true);
  });

  it('gives every terminal, new ones too, this viewer’s options; the host refits to them', () => {
    const { c, session, views } = setup();
    c.receive('room:state', roomState({ seat: 'host' }));
    const fits = views.get('main')!.fits;
    session.configureViews({ fontPx: 18, screenReader: true });
    expect(views.get('main')!.options).toEqual({ fontPx: 18, follow: false, screenReader: true });
    expect(views.get('main')!.fits).toBe(fits + 1);
    c.receive('room:state', roomState({ seat: 'host', tabs: [{ id: 'main', title: 'Terminal' }, { id: 't2', title: 'Terminal 2' }] }));
    expect(views.get('t2')!.options).toEqual({ fontPx: 18, follow: false, screenReader: true });
  });

  it('tells listeners about connection changes and refusals; a refusal after being connected is lost access', () => {
    const { c, session } = setup();
    let heard = 0;
    const off = session.subscribe(() => heard++);
    c.conn('connected');
    c.fatal({ code: 'FORBIDDEN', message: 'revoked' }, true);
    expect(session.getSnapshot()).toMatchObject({ conn: 'connected', lostAccess: true, fatal: { code: 'FORBIDDEN' } });
    expect(heard).toBe(2);
    off();
    c.conn('reconnecting');
    expect(heard).toBe(2);
  });
});
