import { describe, expect, it } from 'vitest';
import { GuestGateway, MAX_GW_IN_FLIGHT, failureOf } from './GuestGateway';
import { GW_OSC, decodeGuestAnswer, requestFrame } from './gatewayFrames';

function harness(answer: (body: Record<string, unknown>) => Promise<Response>) {
  const files = new Map<string, string>();
  let shown = '';
  const sent: Record<string, unknown>[] = [];
  const gw = new GuestGateway({
    baseUrl: 'http://tandem.test',
    room: 'r1',
    netToken: 'tok',
    writeFile: async (name, text) => void files.set(name, text),
    output: (t) => (shown += t),
    fetch: (async (_url: string, init: RequestInit) => {
      const body = JSON.parse(String(init.body)) as Record<string, unknown>;
      sent.push(body);
      return answer(body);
    }) as typeof fetch,
  });
  const answerOf = async (id: string) => {
    await expect.poll(() => files.get(`gw-${id}.head`)?.endsWith('end\n')).toBe(true);
    return decodeGuestAnswer(files.get(`gw-${id}.head`)!, files.get(`gw-${id}.body`)!);
  };
  return { gw, files, sent, answerOf, shown: () => shown };
}

const get = (url: string) => ({ method: 'GET' as const, url, followRedirects: false, headers: {}, body: null });

describe('GuestGateway (the page side)', () => {
  it('sends the request with the seat token and room, writes the answer, clears it on done', async () => {
    const h = harness(async () => Response.json({ status: 201, statusText: 'Created', headers: { a: 'b' }, data_b64: 'AAH/' }));
    h.gw.push(`$ ${requestFrame('x1', get('http://e.test/'))}`);
    expect(await h.answerOf('x1')).toEqual({ ok: true, status: 201, statusText: 'Created', headers: { a: 'b' }, body: new Uint8Array([0, 1, 255]) });
    expect(h.sent[0]).toMatchObject({ url: 'http://e.test/', method: 'GET', followRedirects: false, responseType: 'arrayBuffer', room: 'r1' });
    expect(h.shown()).toBe('$ ');
    h.gw.push(`${GW_OSC}done;x1;\x07`);
    await expect.poll(() => h.files.get('gw-x1.head')).toBe('');
  });

  it("names the gateway's refusals in the wrapper's words", async () => {
    const h = harness(async () => Response.json({ error: { code: 'FORBIDDEN', message: 'destination refused: self (127.0.0.1:3000)' } }, { status: 403 }));
    h.gw.push(requestFrame('x2', get('http://127.0.0.1:3000/')));
    expect(await h.answerOf('x2')).toEqual({ ok: false, failure: 'refused', message: 'destination refused: self (127.0.0.1:3000)' });
    expect(failureOf('FORBIDDEN', "the room's Internet is turned off")).toBe('unavailable');
    expect(failureOf('UPSTREAM_FAILED', 'x.test does not resolve')).toBe('unresolved');
    expect(failureOf('UPSTREAM_FAILED', 'more than 5 redirects')).toBe('redirects');
    expect(failureOf('UPSTREAM_TIMEOUT', '')).toBe('timeout');
    expect(failureOf(undefined, '')).toBe('unavailable');
  });

  it('answers a garbled or oversize frame that names its id, and busy past the in-flight cap', async () => {
    const pending: (() => void)[] = [];
    const h = harness(() => new Promise((r) => pending.push(() => r(Response.json({ status: 200, statusText: 'OK', headers: {}, data_b64: '' })))));
    h.gw.push(`${GW_OSC}req;bad1;!!\x07`);
    expect(await h.answerOf('bad1')).toMatchObject({ ok: false, failure: 'bad_request' });
    for (let i = 0; i < MAX_GW_IN_FLIGHT + 1; i++) h.gw.push(requestFrame(`f${i}`, get('http://e.test/')));
    expect(await h.answerOf(`f${MAX_GW_IN_FLIGHT}`)).toMatchObject({ ok: false, failure: 'unavailable' });
    for (const p of pending) p();
    expect(await h.answerOf('f0')).toMatchObject({ ok: true, status: 200 });
  });

  it('shows a held ESC after a short wait when no frame follows', async () => {
    const h = harness(async () => new Response());
    h.gw.push('abc\x1b');
    expect(h.shown()).toBe('abc');
    await expect.poll(() => h.shown()).toBe('abc\x1b');
    h.gw.close();
  });
});
