import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SyncScheduler } from './SyncScheduler';

// Fake clock (setTimeout and Date.now): the schedule is checked exactly, whatever the machine's load.
const sleep = (ms: number) => vi.advanceTimersByTimeAsync(ms);
let s: SyncScheduler | undefined;
beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  s?.close();
  vi.useRealTimers();
});

describe('SyncScheduler', () => {
  it('sends one snapshot at a time per peer; requests while one is in flight collapse into one', async () => {
    const sent: string[] = [];
    let release!: () => void;
    s = new SyncScheduler(
      (peer, tab) => {
        sent.push(`${peer}:${tab}`);
        return new Promise<void>((r) => (release = r));
      },
      () => 0,
      { burst: 100, intervalMs: 1 },
    );
    for (let i = 0; i < 50; i++) s.request('p', 'main');
    expect(sent).toEqual(['p:main']);
    release();
    await sleep(5);
    expect(sent).toEqual(['p:main', 'p:main']);
    release();
    await sleep(5);
    expect(sent).toHaveLength(2);
  });

  it('waits while the previous snapshot still sits unsent, then sends', async () => {
    const sent: string[] = [];
    let backlog = 10_000_000;
    s = new SyncScheduler(async (peer, tab) => void sent.push(tab), () => backlog, { maxBacklogBytes: 1000 });
    s.request('p', 'main');
    await sleep(250);
    expect(sent).toEqual([]);
    backlog = 0;
    await sleep(250);
    expect(sent).toEqual(['main']);
  });

  it('limits the rate after a burst; a peer that left gets nothing more', async () => {
    const sent: string[] = [];
    s = new SyncScheduler(async (peer) => void sent.push(peer), () => 0, { burst: 2, intervalMs: 100 });
    for (let i = 0; i < 3; i++) {
      s.request('p', `t${i}`);
      await sleep(1);
    }
    expect(sent).toEqual(['p', 'p']);
    s.forget('p');
    await sleep(150);
    expect(sent).toEqual(['p', 'p']);
  });
});
