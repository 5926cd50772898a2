import { TerminalMirror } from '../relay/TerminalMirror';

type Ev = [number, string, string];

/** Plays asciicast events (after an optional keyframe) into a headless terminal and returns its screen text. */
export async function replayScreen(opts: { cols: number; rows: number; keyframe?: { data: string; cols: number; rows: number } | null; events: Ev[] }): Promise<string> {
  const m = new TerminalMirror(opts.keyframe?.cols ?? opts.cols, opts.keyframe?.rows ?? opts.rows);
  try {
    if (opts.keyframe) m.write(opts.keyframe.data, 0);
    for (const [, code, data] of opts.events) {
      if (code === 'o') m.write(data, 0);
      else if (code === 'r') {
        const [c, r] = data.split('x').map(Number);
        m.resize(c, r);
      }
    }
    return await m.screenText();
  } finally {
    m.dispose();
  }
}

/** A whole .cast file: its header and events, checked to be asciicast v2 line by line. */
export function parseCastText(text: string): { header: { version: number; width: number; height: number; title?: string }; events: Ev[] } {
  const lines = text.split('\n').filter((l) => l !== '');
  const header = JSON.parse(lines[0]);
  if (header.version !== 2 || !Number.isInteger(header.width) || !Number.isInteger(header.height)) throw new Error('not an asciicast v2 header');
  let last = 0;
  const events = lines.slice(1).map((l) => {
    const e = JSON.parse(l) as Ev;
    if (!Array.isArray(e) || e.length !== 3 || typeof e[0] !== 'number' || !'oirm'.includes(e[1]) || typeof e[2] !== 'string') throw new Error(`not an asciicast v2 event: ${l.slice(0, 80)}`);
    if (e[0] < last) throw new Error('time goes backwards');
    last = e[0];
    return e;
  });
  return { header, events };
}
