import { describe, expect, it } from 'vitest';
import { DEFAULT_PREFS, MAX_FONT_PX, MIN_FONT_PX, ViewPrefsStore, parsePrefs } from './viewPrefs';

describe('view prefs', () => {
  it('are remembered across pages of the same browser', () => {
    const m = new Map<string, string>();
    const storage = { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
    const a = new ViewPrefsStore(storage);
    a.update({ fontPx: 18, follow: false });
    expect(new ViewPrefsStore(storage).getSnapshot()).toEqual({ ...DEFAULT_PREFS, fontPx: 18, follow: false });
  });

  it('keep the defaults for missing, malformed or out-of-range values', () => {
    expect(parsePrefs(null)).toEqual(DEFAULT_PREFS);
    expect(parsePrefs('{not json')).toEqual(DEFAULT_PREFS);
    expect(parsePrefs('[1,2]').fontPx).toBe(DEFAULT_PREFS.fontPx);
    expect(parsePrefs('{"fontPx":"20","fit":"yes"}')).toEqual(DEFAULT_PREFS);
    expect(parsePrefs('{"fontPx":2}').fontPx).toBe(MIN_FONT_PX);
    expect(parsePrefs('{"fontPx":1e9}').fontPx).toBe(MAX_FONT_PX);
  });

  it('work without storage (blocked): changes hold for the page', () => {
    const s = new ViewPrefsStore({ getItem: () => { throw new Error('blocked'); }, setItem: () => { throw new Error('blocked'); } });
    s.update({ screenReader: true });
    expect(s.getSnapshot().screenReader).toBe(true);
  });
});
