import type { ScreenInputEvent } from '../../shared/protocol';

// The VM's keyboard is a US PS/2 keyboard. A printable character is sent as the US key that
// types it (with Shift pressed or released around it as needed), so what the sender typed is what
// the VM gets whatever the sender's layout; other keys (Enter, arrows, Ctrl+C) go by physical code.
const US_PLAIN = "`1234567890-=qwertyuiop[]\\asdfghjkl;'zxcvbnm,./ ";
const US_SHIFTED = '~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:"ZXCVBNM<>? ';
const US_CODES = [
  'Backquote', 'Digit1', 'Digit2', 'Digit3', 'Digit4', 'Digit5', 'Digit6', 'Digit7', 'Digit8', 'Digit9', 'Digit0', 'Minus', 'Equal',
  'KeyQ', 'KeyW', 'KeyE', 'KeyR', 'KeyT', 'KeyY', 'KeyU', 'KeyI', 'KeyO', 'KeyP', 'BracketLeft', 'BracketRight', 'Backslash',
  'KeyA', 'KeyS', 'KeyD', 'KeyF', 'KeyG', 'KeyH', 'KeyJ', 'KeyK', 'KeyL', 'Semicolon', 'Quote',
  'KeyZ', 'KeyX', 'KeyC', 'KeyV', 'KeyB', 'KeyN', 'KeyM', 'Comma', 'Period', 'Slash', 'Space',
];
const CHARS = new Map<string, { code: string; shift: boolean }>();
US_CODES.forEach((code, i) => {
  CHARS.set(US_PLAIN[i], { code, shift: false });
  if (!CHARS.has(US_SHIFTED[i])) CHARS.set(US_SHIFTED[i], { code, shift: true });
});

export interface KeyLike {
  key: string;
  code: string;
  ctrlKey: boolean;
  altKey: boolean;
  metaKey: boolean;
}

/** Turns a browser's keydown/keyup events into the VM's key events (see the note above). */
export class KeyTranslator {
  private shiftHeld = false;
  /** Physical keys whose press was sent as a character: their release was sent with it. */
  private typed = new Set<string>();

  keydown(e: KeyLike): ScreenInputEvent[] {
    if (e.code === 'ShiftLeft' || e.code === 'ShiftRight') this.shiftHeld = true;
    const ch = e.key.length === 1 && !e.ctrlKey && !e.altKey && !e.metaKey ? CHARS.get(e.key) : undefined;
    if (!ch) return e.code ? [{ kind: 'key', code: e.code, down: true }] : [];
    this.typed.add(e.code);
    const press: ScreenInputEvent[] = [
      { kind: 'key', code: ch.code, down: true },
      { kind: 'key', code: ch.code, down: false },
    ];
    if (ch.shift === this.shiftHeld) return press;
    // Shift the other way for this one key, then back to what the sender holds.
    return [{ kind: 'key', code: 'ShiftLeft', down: ch.shift }, ...press, { kind: 'key', code: 'ShiftLeft', down: !ch.shift }];
  }

  keyup(e: KeyLike): ScreenInputEvent[] {
    if (e.code === 'ShiftLeft' || e.code === 'ShiftRight') this.shiftHeld = false;
    if (this.typed.delete(e.code)) return [];
    return e.code ? [{ kind: 'key', code: e.code, down: false }] : [];
  }

  /** Keys the VM still thinks are down when the canvas loses focus, released. */
  releaseAll(): ScreenInputEvent[] {
    this.typed.clear();
    const held = this.shiftHeld;
    this.shiftHeld = false;
    return held ? [{ kind: 'key', code: 'ShiftLeft', down: false }] : [];
  }
}
