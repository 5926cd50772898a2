import { describe, expect, it } from 'vitest';
import { TandemError } from '../../lib/shared/errors';
import type { ControlEvent, ControlState } from '../../lib/shared/protocol';
import { accessOf } from '../testing/access';
import type { Access } from './RoomAccess';
import { applyControl, DEFAULT_CONTROL, mayType, parseControl } from './RoomControl';

const who = accessOf;
const owner = who('u:owner', { role: 'owner', canManage: true, canHost: true });
const driver = who('g:driver');
const viewer = who('g:viewer', { role: 'viewer', canType: false });
const canType = (id: string) => id !== viewer.memberId;
const code = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as TandemError).code;
  }
};
const step = (s: ControlState, a: Access, e: ControlEvent, p: object = {}) => applyControl(s, a, e, p, canType);

describe('keyboard control', () => {
  it('in all mode every write role types; viewers never do', () => {
    expect(mayType(DEFAULT_CONTROL, driver)).toBe(true);
    expect(mayType(DEFAULT_CONTROL, viewer)).toBe(false);
  });

  it('single mode: the switching manager holds it, hands it to a raised hand, takes it back', () => {
    let s = step(DEFAULT_CONTROL, owner, 'control:mode', { mode: 'single' });
    expect(s).toEqual({ mode: 'single', holder: 'u:owner', hands: [] });
    expect(mayType(s, driver)).toBe(false);
    s = step(s, driver, 'control:request');
    s = step(s, driver, 'control:request'); // twice is once
    expect(s.hands).toEqual(['g:driver']);
    s = step(s, owner, 'control:grant', { memberId: 'g:driver' });
    expect(s).toEqual({ mode: 'single', holder: 'g:driver', hands: [] });
    expect(mayType(s, driver)).toBe(true);
    expect(mayType(s, owner)).toBe(false);
    s = step(s, owner, 'control:take');
    expect(s.holder).toBe('u:owner');
    s = step(s, owner, 'control:release');
    expect(s.holder).toBeNull();
    expect(step(s, owner, 'control:mode', { mode: 'all' })).toEqual({ mode: 'all', holder: null, hands: [] });
  });

  it('refuses non-managers, grants to viewers, and releases by non-holders', () => {
    for (const e of ['control:mode', 'control:grant', 'control:take'] as const)
      expect(code(() => step(DEFAULT_CONTROL, driver, e, { mode: 'single', memberId: 'g:driver' })), e).toBe('FORBIDDEN');
    expect(code(() => step(DEFAULT_CONTROL, owner, 'control:grant', { memberId: viewer.memberId }))).toBe('FORBIDDEN');
    expect(code(() => step({ mode: 'single', holder: 'u:owner', hands: [] }, driver, 'control:release'))).toBe('CONFLICT');
    expect(step(DEFAULT_CONTROL, viewer, 'control:request').hands).toEqual(['g:viewer']);
  });

  it('caps raised hands', () => {
    let s: ControlState = DEFAULT_CONTROL;
    for (let i = 0; i < 200; i++) s = step(s, who(`g:h${i}`), 'control:request');
    expect(code(() => step(s, who('g:one-too-many'), 'control:request'))).toBe('RATE_LIMITED');
  });

  it('reads whatever is stored defensively', () => {
    expect(parseControl(undefined)).toEqual(DEFAULT_CONTROL);
    expect(parseControl({ mode: 'chaos' })).toEqual(DEFAULT_CONTROL);
    expect(parseControl({ mode: 'single', holder: 7, hands: ['a', 3, 'b'] })).toEqual({ mode: 'single', holder: null, hands: ['a', 'b'] });
  });
});
