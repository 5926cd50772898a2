import { describe, expect, it } from 'vitest';
import { cheerpXFailedHere, effectiveChoice, rememberCheerpXFailed } from './enginePreference';

const memory = () => {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
};

describe('engine preference', () => {
  it('auto stays auto until CheerpX failed here, then picks v86; explicit choices are kept', () => {
    const s = memory();
    expect(effectiveChoice('auto', s)).toBe('auto');
    expect(cheerpXFailedHere(s)).toBe(false);
    rememberCheerpXFailed(s);
    expect(cheerpXFailedHere(s)).toBe(true);
    expect(effectiveChoice('auto', s)).toBe('v86');
    expect(effectiveChoice('cheerpx', s)).toBe('cheerpx');
    expect(effectiveChoice('v86', s)).toBe('v86');
  });

  it('without storage nothing is remembered', () => {
    rememberCheerpXFailed(null);
    expect(effectiveChoice('auto', null)).toBe('auto');
  });
});
