import type { V86, V86Options } from 'v86';

export type V86Constructor = new (o: V86Options) => V86;

let libPromise: Promise<V86Constructor> | null = null;

/** libv86.js is a classic script that defines window.V86; loading it this way keeps it out of the bundle. */
export function loadV86(src: string): Promise<V86Constructor> {
  libPromise ??= new Promise((resolve, reject) => {
    const w = window as unknown as { V86?: V86Constructor };
    if (w.V86) return resolve(w.V86);
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => (w.V86 ? resolve(w.V86) : reject(new Error('v86 did not load')));
    s.onerror = () => {
      libPromise = null;
      reject(new Error(`could not load the v86 engine from ${src}`));
    };
    document.head.appendChild(s);
  });
  return libPromise;
}

/** v86's state header (src/state.js): STATE_MAGIC, or zstd's frame magic for a compressed state. */
const V86_STATE_MAGIC = 0x86768676;
const ZSTD_MAGIC = 0xfd2fb528;

/**
 * Why `state` cannot be a v86 state, or null. v86 reports a bad state only by throwing inside
 * its own loader, where nobody can catch it (the VM then never loads), so look first.
 */
export function notAV86State(state: ArrayBuffer): string | null {
  if (state.byteLength < 16) return `the saved VM is ${state.byteLength} bytes, too short to be one`;
  const magic = new DataView(state).getUint32(0, true);
  if (magic !== V86_STATE_MAGIC && magic !== ZSTD_MAGIC) return 'the saved VM is not a v86 state (damaged, or from another engine)';
  return null;
}
