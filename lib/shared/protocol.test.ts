import { describe, expect, it } from 'vitest';
import { CLIENT_EVENTS, clientEventSchemas, isClientEvent, MAX_INPUT_CHUNK_BYTES, parseClientEvent, serverEventSchemas } from './protocol';

const refused = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return 'accepted';
};

describe('parseClientEvent: the one validation of inbound payloads', () => {
  it('returns the payload with defaults applied', () => {
    expect(parseClientEvent('host:status', { tab: 'main', phase: 'ready', progress: 1 })).toEqual({ tab: 'main', phase: 'ready', progress: 1, message: '' });
    expect(parseClientEvent('term:in', { tab: 'main', data: 'ls\r' })).toEqual({ tab: 'main', data: 'ls\r' });
  });

  it('takes control requests without a payload as empty ones, and nothing extra', () => {
    expect(parseClientEvent('control:take', undefined)).toEqual({});
    expect(parseClientEvent('control:lower', {})).toEqual({});
    expect(refused(() => parseClientEvent('control:take', { holder: 'u:x' }))).toBe('BAD_MESSAGE');
  });

  it('names what it refuses: TOO_LARGE over a cap, BAD_MESSAGE otherwise', () => {
    expect(refused(() => parseClientEvent('term:in', { tab: 'main', data: 'x'.repeat(MAX_INPUT_CHUNK_BYTES + 1) }))).toBe('TOO_LARGE');
    expect(refused(() => parseClientEvent('term:in', { tab: '../etc', data: 'x' }))).toBe('BAD_MESSAGE');
    expect(refused(() => parseClientEvent('term:in', null))).toBe('BAD_MESSAGE');
    expect(refused(() => parseClientEvent('control:grant', { memberId: 42 }))).toBe('BAD_MESSAGE');
    expect(refused(() => parseClientEvent('control:grant', { memberId: 'u:<script>' }))).toBe('BAD_MESSAGE');
    expect(refused(() => parseClientEvent('control:mode', undefined))).toBe('BAD_MESSAGE');
  });

  it('knows exactly the events in the schema table, none an object inherits', () => {
    expect(CLIENT_EVENTS.sort()).toEqual(Object.keys(clientEventSchemas).sort());
    expect(CLIENT_EVENTS.every(isClientEvent)).toBe(true);
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'room:state', '']) expect(isClientEvent(name)).toBe(false);
  });

  it('describes what the server sends with schemas too', () => {
    const state = { room: 'r1', seat: 'guest', hostConnected: true, hostHeadless: false, hostStatus: null, guests: 0, tabs: [{ id: 'main', title: 'Terminal' }] };
    expect(serverEventSchemas['room:state'].parse(state)).toEqual(state);
    expect(serverEventSchemas['room:state'].safeParse({ ...state, seat: 'owner' }).success).toBe(false);
    expect(serverEventSchemas['room:error'].safeParse({ code: 'NOT_A_CODE', message: 'x' }).success).toBe(false);
  });
});
