import { describe, expect, it } from 'vitest';
import { STATUS_EVERY_MS, StatusReporter } from './roomConnection';

describe('StatusReporter', () => {
  it('throttles booting progress, sends other phases at once, and re-sends the last on request', () => {
    let t = 1000;
    const sent: { phase: string; progress: number; tab: string }[] = [];
    const r = new StatusReporter((s) => void sent.push(s), () => t);
    expect(r.resend()).toBe(false); // nothing to repeat yet
    r.send({ phase: 'booting', progress: 0.1, message: '' });
    r.send({ phase: 'booting', progress: 0.2, message: '' }); // too soon: dropped
    t += STATUS_EVERY_MS;
    r.send({ phase: 'booting', progress: 0.3, message: '' });
    r.send({ phase: 'ready', progress: 1, message: 'Booted' }); // not throttled
    expect(sent.map((s) => s.progress)).toEqual([0.1, 0.3, 1]);
    expect(sent.every((s) => s.tab === 'main')).toBe(true);
    expect(r.resend()).toBe(true);
    expect(sent.at(-1)).toMatchObject({ phase: 'ready', message: 'Booted' });
  });
});
