import { describe, expect, it } from 'vitest';
import { KeyTranslator, type KeyLike } from './KeyTranslator';
import { scancodes } from '../vm/scancodes';

const k = (key: string, code: string, mods: Partial<KeyLike> = {}): KeyLike => ({ key, code, ctrlKey: false, altKey: false, metaKey: false, ...mods });
const codes = (evs: { kind: string; code?: string; down?: boolean }[]) => evs.map((e) => `${e.down ? '+' : '-'}${e.code}`);

describe('KeyTranslator', () => {
  it('types a shifted character with Shift around it when the sender holds no Shift (e.g. scripted input)', () => {
    const t = new KeyTranslator();
    expect(codes(t.keydown(k('$', 'Digit4')))).toEqual(['+ShiftLeft', '+Digit4', '-Digit4', '-ShiftLeft']);
    expect(t.keyup(k('$', 'Digit4'))).toEqual([]);
  });

  it('uses the held Shift, and types by character whatever the physical key', () => {
    const t = new KeyTranslator();
    expect(codes(t.keydown(k('Shift', 'ShiftLeft')))).toEqual(['+ShiftLeft']);
    expect(codes(t.keydown(k('A', 'KeyA')))).toEqual(['+KeyA', '-KeyA']);
    // AZERTY's "a" sits where US has Q; with Caps Lock on it comes lowercase despite Shift:
    // the VM gets US KeyA with Shift released around it.
    expect(codes(t.keydown(k('a', 'KeyQ')))).toEqual(['-ShiftLeft', '+KeyA', '-KeyA', '+ShiftLeft']);
    expect(codes(t.keyup(k('Shift', 'ShiftLeft')))).toEqual(['-ShiftLeft']);
  });

  it('sends control keys and Ctrl combinations by physical code', () => {
    const t = new KeyTranslator();
    expect(codes(t.keydown(k('Enter', 'Enter')))).toEqual(['+Enter']);
    expect(codes(t.keyup(k('Enter', 'Enter')))).toEqual(['-Enter']);
    expect(codes(t.keydown(k('c', 'KeyC', { ctrlKey: true })))).toEqual(['+KeyC']);
  });
});

describe('scancodes', () => {
  it('maps keys to PS/2 set 1, releases with the high bit, extended keys with 0xE0', () => {
    expect(scancodes('KeyA', true)).toEqual([0x1e]);
    expect(scancodes('KeyA', false)).toEqual([0x9e]);
    expect(scancodes('ArrowUp', true)).toEqual([0xe0, 0x48]);
    expect(scancodes('ArrowUp', false)).toEqual([0xe0, 0xc8]);
    expect(scancodes('NoSuchKey', true)).toBeNull();
    expect(scancodes('toString', true)).toBeNull();
  });
});
