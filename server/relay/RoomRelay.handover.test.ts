import { afterEach, describe, expect, it, vi } from 'vitest';
import { RoomRelay, YIELD_TIMEOUT_MS } from './RoomRelay';
import type { RoomState } from '../../lib/shared/protocol';
import { recordingTransport } from '../testing/recordingTransport';
import { errorCode as errCode } from '../testing/errorCode';

const peer = (id: string, o: { wantHost?: boolean; headless?: boolean; name?: string } = {}) => ({ id, clientId: `client-${id}`, wantHost: o.wantHost ?? true, headless: o.headless, name: o.name ?? id.toUpperCase() });
const lastState = (f: ReturnType<typeof recordingTransport>, to: string) => f.of(to, 'room:state').at(-1) as RoomState;

let relay: RoomRelay;
afterEach(() => {
  relay?.close();
  vi.useRealTimers();
});

describe('RoomRelay handover', () => {
  it('gives the host alone an upload key and its candidates; the key moves with the seat', async () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    relay.handleConnect(peer('g'));
    relay.handleConnect(peer('w', { wantHost: false }));
    await new Promise((r) => setTimeout(r, 80)); // joins are announced together, a moment later
    const hs = lastState(f, 'h');
    expect(hs.hostKey).toMatch(/^[\w-]{20,}$/);
    expect(hs.candidates).toEqual([{ peer: 'g', name: 'G' }]);
    expect(lastState(f, 'g').hostKey).toBeUndefined();
    expect(lastState(f, 'g').hostName).toBe('H');
    expect(relay.mayUpload(hs.hostKey!)).toBe(true);
    expect(relay.mayUpload('forged')).toBe(false);
    // The host leaves: its last upload may still arrive, until the next host sits down.
    relay.handleClose('h');
    expect(relay.mayUpload(hs.hostKey!)).toBe(true);
    expect(lastState(f, 'g').hostName).toBeNull();
    relay.handleMessage('g', 'host:take', {});
    const gs = lastState(f, 'g');
    expect(gs.seat).toBe('host');
    expect(relay.mayUpload(hs.hostKey!)).toBe(false);
    expect(relay.mayUpload(gs.hostKey!)).toBe(true);
    expect(lastState(f, 'w').hostName).toBe('G');
  });

  it('refuses a take-over from a watcher, and from anyone while a person hosts', () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    relay.handleConnect(peer('g'));
    relay.handleConnect(peer('w', { wantHost: false }));
    expect(errCode(() => relay.handleMessage('g', 'host:take', {}))).toBe('CONFLICT');
    relay.handleClose('h');
    expect(errCode(() => relay.handleMessage('w', 'host:take', {}))).toBe('FORBIDDEN');
    expect(errCode(() => relay.handleMessage('g', 'host:take', { extra: 1 }))).toBe('BAD_MESSAGE');
  });

  it('lets the host give the VM to a guest who may host, and nobody else', () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    relay.handleConnect(peer('g'));
    relay.handleConnect(peer('w', { wantHost: false }));
    expect(errCode(() => relay.handleMessage('g', 'host:give', { to: 'g' }))).toBe('NOT_HOST');
    expect(errCode(() => relay.handleMessage('h', 'host:give', { to: 'w' }))).toBe('FORBIDDEN');
    expect(errCode(() => relay.handleMessage('h', 'host:give', { to: 'nobody' }))).toBe('NOT_FOUND');
    relay.handleMessage('h', 'host:give', { to: 'g' });
    expect(lastState(f, 'g').seat).toBe('host');
    expect(lastState(f, 'h').seat).toBe('guest');
    expect(f.guests.has('h')).toBe(true);
    expect(f.guests.has('g')).toBe(false);
    // Input now goes to the new host.
    relay.handleMessage('h', 'term:in', { tab: 'main', data: 'x' });
    expect(f.of('g', 'term:in')).toEqual([{ tab: 'main', data: 'x' }]);
  });

  it('asks the headless host to yield to a person, and moves the seat at the deadline if it does not', () => {
    vi.useFakeTimers();
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('x'));
    relay.handleConnect(peer('p'));
    relay.handleClose('x');
    expect(relay.handleConnect(peer('bot', { headless: true, name: 'Tandem (headless host)' }))).toBe('host');
    expect(lastState(f, 'p').hostName).toBe('Tandem (headless host)');
    relay.handleMessage('p', 'host:take', {});
    expect(f.of('bot', 'host:yield')).toEqual([{ peer: 'p', name: 'P' }]);
    relay.handleMessage('p', 'host:take', {}); // asking again does not ask twice
    expect(f.of('bot', 'host:yield')).toHaveLength(1);
    // The headless host saves the VM and gives it.
    relay.handleMessage('bot', 'host:give', { to: 'p' });
    expect(lastState(f, 'p').seat).toBe('host');
    // Once more, the bot back in the seat, and this time it never answers.
    relay.handleClose('p');
    relay.handleClose('bot');
    relay.handleConnect(peer('q'));
    relay.handleClose('q');
    relay.handleConnect(peer('bot2', { headless: true }));
    relay.handleConnect(peer('r', { wantHost: false }));
    relay.updatePeer('r', { me: { memberId: 'a:r', name: 'R', role: null, canType: true, canHost: true, canManage: false }, wantHost: true });
    relay.handleMessage('r', 'host:take', {});
    expect(lastState(f, 'r').seat).toBe('guest');
    vi.advanceTimersByTime(YIELD_TIMEOUT_MS + 10);
    expect(lastState(f, 'r').seat).toBe('host');
    expect(lastState(f, 'bot2').seat).toBe('guest');
  });

  it('a person opening a room the headless host runs watches until it has saved and given the VM, or until the deadline', () => {
    vi.useFakeTimers();
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('bot', { headless: true }));
    relay.handleConnect(peer('watcher', { wantHost: false }));
    expect(f.of('bot', 'host:yield')).toEqual([]); // a watcher does not take the VM
    expect(relay.handleConnect(peer('p'))).toBe('guest');
    expect(f.of('bot', 'host:yield')).toEqual([{ peer: 'p', name: 'P' }]);
    const botKey = lastState(f, 'bot').hostKey!;
    vi.advanceTimersByTime(YIELD_TIMEOUT_MS - 100);
    // Still saving: the seat, and the upload key, stay the headless host's.
    expect(lastState(f, 'p').seat).toBe('guest');
    expect(relay.mayUpload(botKey)).toBe(true);
    // A hung headless page does not keep the seat.
    vi.advanceTimersByTime(200);
    expect(lastState(f, 'p').seat).toBe('host');
    expect(lastState(f, 'bot').seat).toBe('guest');
    expect(relay.mayUpload(botKey)).toBe(false);
  });
});
